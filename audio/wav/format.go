package wav

// Format is the sample encoding of a WAV file (its format tag).
type Format int

// Encodings the reader understands. WAVE_FORMAT_EXTENSIBLE files are
// reported as the encoding named by their sub-format.
const (
	FormatUnknown Format = 0
	FormatPCM     Format = 1 // integer PCM, 8 (unsigned), 16, 24 or 32 bits
	FormatFloat   Format = 3 // IEEE float, 32 or 64 bits
	FormatAlaw    Format = 6 // ITU-T G.711 A-law, 8 bits
	FormatUlaw    Format = 7 // ITU-T G.711 µ-law, 8 bits
)

// formatExtensible is WAVE_FORMAT_EXTENSIBLE: the real tag is in the sub-format GUID.
const formatExtensible = 0xfffe

// String returns a short name such as "pcm" or "mu-law".
func (f Format) String() string {
	switch f {
	case FormatPCM:
		return "pcm"
	case FormatFloat:
		return "float"
	case FormatAlaw:
		return "a-law"
	case FormatUlaw:
		return "mu-law"
	default:
		return "unknown"
	}
}
