package device

import (
	"errors"

	"github.com/teaphone/teaphone/audio"
)

// SoundCard opens the sound card. main passes one around audio/portaudio's
// Open: this package does not link PortAudio.
type SoundCard func() (Device, error)

// ErrNoSoundCard is matched (errors.Is) by a SoundCard's error when the
// machine has no sound card to open (no device at all, no sound server),
// or the build cannot open one; not when a named device is missing or a
// device fails.
var ErrNoSoundCard = errors.New("no sound card")

// Choice is the device Choose opened.
type Choice struct {
	Device Device
	// Fallback is set when the null device stands in for the sound card:
	// the SoundCard's error, which says why (it matches ErrNoSoundCard).
	Fallback error
}

// Notice is what the user is told when the null device stands in for the
// sound card ("" when it does not).
func (c Choice) Notice() string {
	if c.Fallback == nil {
		return ""
	}
	return "no sound card — audio off"
}

// Choose opens the backend spec names: "" or "portaudio" is the sound card,
// opened with card; anything else goes to Open. When the sound card is
// wanted but the machine has none and the choice was not explicit (the
// user did not ask for it by flag or environment), the null device stands
// in, so the phone still starts and takes and places calls (signalling,
// DTMF and recording work; there is no sound), and Choice.Fallback says
// why. Any other failure, and an explicit choice that fails, is an error.
func Choose(spec string, explicit bool, card SoundCard) (Choice, error) {
	return ChooseAt(spec, explicit, card, audio.SampleRate)
}

// ChooseAt is Choose for headless devices at rate Hz (card opens the sound
// card at whatever rate it was made for).
func ChooseAt(spec string, explicit bool, card SoundCard, rate int) (Choice, error) {
	if spec != "" && spec != "portaudio" {
		d, err := OpenAt(spec, rate)
		if err != nil {
			return Choice{}, err
		}
		return Choice{Device: d}, nil
	}
	d, err := card()
	switch {
	case err == nil:
		return Choice{Device: d}, nil
	case errors.Is(err, ErrNoSoundCard) && !explicit:
		return Choice{Device: &headless{rate: rate}, Fallback: err}, nil
	}
	return Choice{}, err
}
