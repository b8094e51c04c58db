package config

// History is the [history] table: the call history database.
type History struct {
	// Enabled keeps every call (direction, peer, times, how it ended, codec,
	// MOS) in the database; `teaphone history` lists them.
	Enabled bool `toml:"enabled"`
	// File is the SQLite database; "" means
	// $XDG_DATA_HOME/teaphone/history.db (~/.local/share/teaphone/history.db).
	File string `toml:"file"`
}
