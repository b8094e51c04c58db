package headless

import (
	"fmt"

	"github.com/teaphone/teaphone/sessions"
)

// mwiJSON is the contract's "mwi" object: an account's voice messages
// (RFC 3842 message summary).
type mwiJSON struct {
	TS             string `json:"ts"`
	Event          string `json:"event"`
	Account        string `json:"account"`
	Waiting        bool   `json:"waiting"`
	New            int    `json:"new"`
	Old            int    `json:"old"`
	UrgentNew      int    `json:"urgent_new,omitempty"`
	UrgentOld      int    `json:"urgent_old,omitempty"`
	MessageAccount string `json:"message_account,omitempty"`
}

func mwiJSONOf(e sessions.MWIEvent, ts string) mwiJSON {
	return mwiJSON{TS: ts, Event: "mwi", Account: e.Account, Waiting: e.Waiting, New: e.New, Old: e.Old,
		UrgentNew: e.UrgentNew, UrgentOld: e.UrgentOld, MessageAccount: e.MessageAccount}
}

func mwiText(e sessions.MWIEvent) string {
	return fmt.Sprintf("mwi %s waiting=%t new %d old %d", e.Account, e.Waiting, e.New, e.Old)
}
