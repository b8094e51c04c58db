package phone

// This file documents the control surface of *Phone (implemented in phone.go
// and call*.go). Every method takes a SessionID and returns quickly; progress
// arrives on Events().
//
//	func New(opts Options) (*Phone, error)
//	func (p *Phone) Start(ctx context.Context) error           // bind listeners, start registrations
//	func (p *Phone) Events() <-chan Event                      // lossless, closed after Close
//	func (p *Phone) Dial(ctx context.Context, target string, o DialOptions) (SessionID, error) // o.Session: the caller's ID for it
//	func (p *Phone) Accept(id SessionID) error                 // a deferred incoming call
//	func (p *Phone) Reject(id SessionID, code int, reason string) error
//	func (p *Phone) Forward(id SessionID, target string) error // 302
//	func (p *Phone) Hangup(id SessionID) error                 // CANCEL, reject 603 or BYE as the state requires
//	func (p *Phone) Hold(id SessionID) error
//	func (p *Phone) Resume(id SessionID) error
//	func (p *Phone) Mute(id SessionID, on bool) error
//	func (p *Phone) SendDTMF(id SessionID, digits string) error
//	func (p *Phone) Transfer(id SessionID, target string) error             // blind (REFER)
//	func (p *Phone) AttendedTransfer(id, consult SessionID) error           // REFER with Replaces
//	func (p *Phone) AnswerTransfer(id SessionID, accept bool) error         // a transfer request asked of us (TransferAsk)
//	func (p *Phone) Close() error                                            // hang up all, un-REGISTER, stop
//
// Media control, also by session ID:
//
//	func (p *Phone) SetSource(id SessionID, src audio.Source) error   // what the far end hears from now on (nil = the default from Options.Audio)
//	func (p *Phone) SetSink(id SessionID, sink audio.Sink) error      // where the far end's audio goes from now on (nil = default)
//	func (p *Phone) Record(id SessionID, path string) error           // stereo WAV: remote left, local right
//	func (p *Phone) StopRecording(id SessionID) error
//	func (p *Phone) Stats(id SessionID) (MediaStats, error)
//
// Options.Audio supplies each new call's default source and sink:
//
//	type AudioProvider interface { CallAudio(id SessionID, rate int) (audio.Source, audio.Sink, func()) }
