package g722

// Constant tables of ITU-T G.722 (09/2012), at the scale the Recommendation
// gives them in its computational details (clauses 5 and 6), named after the
// blocks that use them.

// qmfCoeffs holds the QMF coefficients of clause 5 (transmit and receive
// QMF, clauses 3.1 and 4.4) in the order the filters use them: the even
// taps h0, h2, …, h22 of the symmetric 24-tap filter, h(23-i) = h(i).
var qmfCoeffs = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// q6 holds the lower sub-band decision levels of QUANTL (clauses 3.3 and 6) for mil = 1…29, before scaling by DETL.
var q6 = [30]int32{
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370,
	422, 473, 530, 587, 650, 714, 786, 858, 940, 1023,
	1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
}

// iln and ilp map the QUANTL interval mil to the 6-bit code IL for a
// negative and a non-negative difference signal; index 30 is the
// last, open interval.
var (
	iln = [31]uint8{
		0, 63, 62, 31, 30, 29, 28, 27, 26, 25,
		24, 23, 22, 21, 20, 19, 18, 17, 16, 15,
		14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
	}
	ilp = [31]uint8{
		0, 61, 60, 59, 58, 57, 56, 55, 54, 53,
		52, 51, 50, 49, 48, 47, 46, 45, 44, 43,
		42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,
	}
)

// qm4 holds the 4-bit lower sub-band inverse quantizer outputs of INVQAL
// (clauses 3.4 and 6) indexed by IL >> 2: the embedded core that the
// predictor adapts on whatever the mode.
var qm4 = [16]int32{
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
}

// qm6 holds the 6-bit lower sub-band inverse quantizer outputs of INVQBL
// in mode 1, 64 kbit/s (clauses 4.1 and 6), indexed by IL.
var qm6 = [64]int32{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
}

// rl42 and wl give the lower sub-band log scale factor multiplier of LOGSCL
// (clauses 3.5 and 6) for the 4-bit code IL >> 2.
var (
	rl42 = [16]uint8{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	wl   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
)

// ilb is the antilog table of SCALEL and SCALEH (clauses 3.5 and 6):
// ilb[i] = 2048·2^(i/32), rounded.
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// Higher sub-band tables (clauses 3.3 to 3.5 and 6): the codes of
// QUANTH for a negative (ihn) and non-negative (ihp) difference in interval
// mih = 1 or 2, the INVQAH outputs qm2 indexed by IH, and the LOGSCH
// multipliers wh indexed by rh2[IH].
var (
	ihn = [3]uint8{0, 1, 0}
	ihp = [3]uint8{0, 3, 2}
	qm2 = [4]int32{-7408, -1616, 7408, 1616}
	rh2 = [4]uint8{2, 1, 2, 1}
	wh  = [3]int32{0, -214, 798}
)
