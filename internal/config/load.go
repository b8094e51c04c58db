package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/teaphone/teaphone/internal/textdist"

	toml "github.com/pelletier/go-toml/v2"
)

// Load returns [Default] with the TOML file at path decoded over it. Unknown
// keys are errors that name the key and its line; syntax and type errors keep
// file:line:col. An empty path means [DefaultPath]. A missing file at the
// default path is not an error (the defaults are returned); a missing file
// named explicitly is. On error Load returns the defaults alongside it.
// Load does not validate: call [Config.Validate] after
// the env and flag overlays.
func Load(path string) (Config, error) {
	cfg := Default()
	def := DefaultPath()
	if path == "" {
		path = def
	}
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && path == def {
			return cfg, nil
		}
		return Default(), fmt.Errorf("load config: %w", err)
	}
	if err := cfg.decode(path, data); err != nil {
		return Default(), err
	}
	return cfg, nil
}

// decode decodes data (read from file) strictly over c and records key lines.
func (c *Config) decode(file string, data []byte) error {
	c.file = file
	// Editors on some systems add a UTF-8 byte order mark, which TOML forbids.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	positions := scanPositions(data)
	c.pos = make(map[string]int, len(positions))
	for _, p := range positions {
		if _, dup := c.pos[p.path]; !dup {
			c.pos[p.path] = p.line
		}
	}
	// go-toml matches keys to fields case-insensitively; TOML keys are not.
	if err := checkKeyCase(file, positions); err != nil {
		return err
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(c)
	if err == nil {
		c.fillAccountDefaults()
		return nil
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			errs = append(errs, unknownKeyError(file, positions, &strict.Errors[i]))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		return decodeError(file, positions, de)
	}
	return fmt.Errorf("decode config %s: %w", file, err)
}

// fillAccountDefaults sets DefaultAccount values for the keys an
// [[accounts]] entry does not mention (decoding starts each entry at zero).
func (c *Config) fillAccountDefaults() {
	def := reflect.ValueOf(DefaultAccount())
	t := def.Type()
	for i := range c.Accounts {
		acc := reflect.ValueOf(&c.Accounts[i]).Elem()
		prefix := fmt.Sprintf("accounts[%d].", i)
		for f := 0; f < t.NumField(); f++ {
			tag := tomlName(t.Field(f))
			if tag == "" {
				continue
			}
			if _, set := c.pos[prefix+tag]; !set {
				acc.Field(f).Set(def.Field(f))
			}
		}
	}
}

// tomlName returns the TOML key of a struct field, "" for none.
func tomlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// checkKeyCase reports keys that match a known key only when case is
// ignored, such as "[SIP]" or "Register": go-toml would accept them silently,
// but "register" defaults would then be applied on top of them.
func checkKeyCase(file string, positions []keyPos) error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range positions {
		t := reflect.TypeOf(Config{})
		prefix := ""
		for _, indexed := range strings.Split(p.path, ".") {
			part, _, _ := strings.Cut(indexed, "[")
			for t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
				t = t.Elem()
			}
			if t.Kind() != reflect.Struct || t == durationType {
				break
			}
			f, ok := fieldByTOMLName(t, part)
			if ok {
				t = f.Type
				prefix = joinKey(prefix, indexed)
				continue
			}
			for i := 0; i < t.NumField(); i++ {
				name := tomlName(t.Field(i))
				bad := joinKey(prefix, part)
				if name != "" && strings.EqualFold(name, part) && !seen[bad] {
					seen[bad] = true
					errs = append(errs, &Error{File: file, Line: p.line, Key: bad, Err: ErrUnknownKey,
						Msg: fmt.Sprintf("unknown key %q (keys are case-sensitive: did you mean %q?)", bad, name)})
				}
			}
			break
		}
	}
	return errors.Join(errs...)
}

// resolveKey finds the indexed path ("accounts[1].expires") for a key the
// decoder reports without indexes, using the line it reports.
func resolveKey(positions []keyPos, key toml.Key, line int) string {
	plain := strings.Join(key, ".")
	for _, p := range positions {
		if p.plain == plain && p.line == line {
			return p.path
		}
	}
	return plain
}

// unknownKeyError reports a key of the file that Config does not have.
func unknownKeyError(file string, positions []keyPos, de *toml.DecodeError) error {
	line, _ := de.Position()
	path := resolveKey(positions, de.Key(), line)
	msg := fmt.Sprintf("unknown key %q", path)
	if s := suggestKey(de.Key()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return &Error{File: file, Line: line, Key: path, Msg: msg, Err: ErrUnknownKey}
}

var tomlTypeRE = regexp.MustCompile(`^cannot decode TOML (\w+(?: \w+)?) into`)

// decodeError turns a go-toml decode error into an Error naming the key.
func decodeError(file string, positions []keyPos, de *toml.DecodeError) error {
	line, col := de.Position()
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	if len(de.Key()) == 0 || positions == nil {
		// The document does not parse: keep go-toml's excerpt.
		return &Error{File: file, Line: line, Column: col, Msg: msg, Detail: de.String(), Err: ErrSyntax}
	}
	path := resolveKey(positions, de.Key(), line)
	typ := typeAt(de.Key())
	// A wrong element of an array is reported at the element's own position.
	for _, p := range positions {
		if p.line == line && p.column == col && p.plain == stripIndexes(path) && strings.HasSuffix(p.path, "]") {
			path = p.path
			if typ != nil && (typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array) {
				typ = typ.Elem()
			}
			break
		}
	}
	cause := ErrInvalid
	if m := tomlTypeRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("want %s, got %s", describeType(typ), m[1])
		cause = ErrType
	}
	return &Error{File: file, Line: line, Column: col, Key: path, Msg: path + ": " + msg, Err: cause}
}

// typeAt returns the Go type stored at a TOML key path of Config, nil if none.
func typeAt(key toml.Key) reflect.Type {
	t := reflect.TypeOf(Config{})
	for _, part := range key {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldByTOMLName(t, part)
			if !ok {
				return nil
			}
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
	}
	return t
}

// fieldByTOMLName finds the field of struct type t with TOML key name.
func fieldByTOMLName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tomlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

var durationType = reflect.TypeOf(Duration{})

// describeType names a Go type in TOML words.
func describeType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	if t == durationType {
		return `a duration string like "60s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Struct {
			return "an array of tables"
		}
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "an "), "a ") + "s"
	case reflect.Map, reflect.Struct:
		return "a table"
	}
	return t.String()
}

// suggestKey proposes a known sibling key close to the last part of key.
func suggestKey(key toml.Key) string {
	if len(key) == 0 {
		return ""
	}
	last := key[len(key)-1]
	var t reflect.Type
	if len(key) == 1 {
		t = reflect.TypeOf(Config{})
	} else {
		t = typeAt(key[:len(key)-1])
	}
	for t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	// Only close matches help: at most 2 edits, and fewer than half the key.
	best, bestD := "", min(3, (len(last)+1)/2)
	for i := 0; i < t.NumField(); i++ {
		name := tomlName(t.Field(i))
		if name == "" {
			continue
		}
		if d := textdist.Levenshtein(last, name); d < bestD {
			best, bestD = name, d
		}
	}
	return best
}
