package config

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyPos is where a key path appears in the file.
type keyPos struct {
	path   string // with array indexes: "accounts[1].aor"
	plain  string // without: "accounts.aor"
	line   int
	column int
}

// scanPositions walks the TOML document and records the line of every table
// header, key and array element, keyed by the path Validate uses. It returns
// nil when the document does not parse (the decoder reports that error).
func scanPositions(doc []byte) []keyPos {
	var (
		p      unstable.Parser
		out    []keyPos
		prefix string
		counts = map[string]int{} // array-table path → number of entries so far
	)
	p.Reset(doc)
	add := func(path string, n *unstable.Node) {
		s := p.Shape(n.Raw)
		out = append(out, keyPos{path: path, plain: stripIndexes(path), line: s.Start.Line, column: s.Start.Column})
	}
	var value func(path string, v *unstable.Node)
	keyval := func(prefix string, kv *unstable.Node) {
		it := kv.Key()
		path := prefix
		var first *unstable.Node
		for it.Next() {
			if first == nil {
				first = it.Node()
			}
			path = joinKey(path, string(it.Node().Data))
		}
		if first != nil {
			add(path, first)
		}
		value(path, kv.Value())
	}
	value = func(path string, v *unstable.Node) {
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				if it.Node().Kind == unstable.KeyValue {
					keyval(path, it.Node())
				}
			}
		case unstable.Array:
			it := v.Children()
			i := 0
			for it.Next() {
				n := it.Node()
				if n.Kind == unstable.Comment {
					continue
				}
				elem := path + "[" + strconv.Itoa(i) + "]"
				if n.Raw.Length > 0 {
					add(elem, n)
				}
				value(elem, n)
				i++
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var parts []string
			var first *unstable.Node
			it := e.Key()
			for it.Next() {
				if first == nil {
					first = it.Node()
				}
				parts = append(parts, string(it.Node().Data))
			}
			path := ""
			for i, part := range parts {
				path = joinKey(path, part)
				if i == len(parts)-1 && e.Kind == unstable.ArrayTable {
					n := counts[path]
					counts[path] = n + 1
					path += "[" + strconv.Itoa(n) + "]"
				} else if n, ok := counts[path]; ok {
					path += "[" + strconv.Itoa(n-1) + "]"
				}
			}
			prefix = path
			if first != nil {
				add(path, first)
			}
		case unstable.KeyValue:
			keyval(prefix, e)
		}
	}
	if p.Error() != nil {
		return nil
	}
	return out
}

// joinKey appends one key part to a dotted path.
func joinKey(prefix, part string) string {
	if prefix == "" {
		return part
	}
	return prefix + "." + part
}

// stripIndexes turns "accounts[1].aor" into "accounts.aor".
func stripIndexes(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parentKey returns the enclosing path: "a[1].b" → "a[1]" → "a" → "".
func parentKey(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}
