package g722

// channel is the state an Encoder and a Decoder both keep: a QMF's delay
// line and the lower and higher sub-band ADPCM states.
type channel struct {
	qmf    qmfHistory
	lower  band
	higher band
}

// reset is the reset state of clause 6.
func (c *channel) reset() {
	c.qmf.reset()
	c.lower.reset(32)
	c.higher.reset(8)
}

// ready resets a zero channel (a zero Encoder or Decoder) on first use.
func (c *channel) ready() {
	if c.qmf.pos == 0 {
		c.reset()
	}
}
