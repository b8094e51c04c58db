package phone

// This file documents the control surface of *Phone (implemented in phone.go
// and call*.go). Every method takes a SessionID and returns quickly; progress
// arrives on Events().
//
//	func New(opts Options) (*Phone, error)
//	func (p *Phone) Start(ctx context.Context) error           // bind listeners, start registrations
//	func (p *Phone) Events() <-chan Event                      // lossless, closed after Close
//	func (p *Phone) Dial(ctx context.Context, target string, o DialOptions) (SessionID, error)
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
//	func (p *Phone) Close() error                                            // hang up all, un-REGISTER, stop
