package config

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Warnings lists what does not stop the phone but should be fixed: today,
// a config file that holds a password and that other users of the machine
// can read (any group or other permission bit). Where file modes mean
// nothing (Windows) there is none.
func (c Config) Warnings() []string {
	if c.file == "" || runtime.GOOS == "windows" {
		return nil
	}
	var keys []string
	for key := range c.pos {
		if strings.HasPrefix(key, "accounts[") && strings.HasSuffix(key, "].password") {
			if _, fromOverlay := c.src[key]; !fromOverlay {
				keys = append(keys, key)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	st, err := os.Stat(c.file)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s holds a password and other users can read it (mode %04o): run chmod 600 %s, or use password_cmd",
		c.file, st.Mode().Perm(), c.file)}
}
