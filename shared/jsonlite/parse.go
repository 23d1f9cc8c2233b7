// Package jsonlite reads and writes JSON without reflection.
//
// The page's program is Go compiled to WebAssembly, and every package it
// links is bytes the browser downloads, validates and compiles before the
// first token shows. encoding/json brings reflect and fmt with it, about a
// third of the program; the page only needs to read tokens, frames and
// answers as trees and to write a few small objects. jsonlite does that with
// the same strictness as encoding/json: Parse accepts exactly what json.Valid
// accepts, decodes strings as json.Unmarshal does, and reports syntax errors
// with encoding/json's messages, so a person sees the same explanation on the
// server and in the page. The tests hold it to encoding/json as an oracle.
package jsonlite

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Kind is the type of a JSON value.
type Kind uint8

// The kinds of JSON value. The zero Kind is no value.
const (
	Null Kind = iota + 1
	Bool
	Number
	String
	Array
	Object
)

// String names the kind as JSON does: "null", "boolean", "number", "string",
// "array" or "object".
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	}
	return "invalid"
}

// Value is one parsed JSON value.
type Value struct {
	Kind    Kind
	Raw     []byte   // the value's exact bytes in the input, without surrounding white space
	Str     string   // String: the decoded text
	True    bool     // Bool: the value
	Items   []Value  // Array: the elements in order
	Members []Member // Object: the members in document order, duplicate keys kept
}

// Member is one key and value of an object.
type Member struct {
	Key   string
	Value Value
}

// SyntaxError is a reason the input is not JSON, worded as encoding/json
// words it, and the byte offset where it was found.
type SyntaxError struct {
	Offset  int64
	Msg     string
	tooDeep bool
}

func (e *SyntaxError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrTooDeep) tell nesting past MaxDepth apart
// from other syntax errors.
func (e *SyntaxError) Is(target error) bool { return e.tooDeep && target == ErrTooDeep }

// ErrTooDeep matches the *SyntaxError of input nested deeper than MaxDepth.
var ErrTooDeep = errors.New("jsonlite: nested deeper than MaxDepth")

// MaxDepth limits nested arrays and objects. encoding/json allows 10,000
// levels; the parser here recurses, and in the page's program every Go
// call is also a call on the browser's own stack, which runs out at a few
// thousand levels and ends the program. A Twilio token nests four levels
// deep at most, so 512 refuses only hostile input, with encoding/json's
// message for the same refusal.
const MaxDepth = 512

// Parse reads exactly one JSON value, with optional white space around it.
// It accepts what json.Valid accepts, except nesting deeper than 512
// levels; strings are decoded as json.Unmarshal
// decodes them (invalid UTF-8 and lone surrogates become U+FFFD). Errors are
// *SyntaxError.
func Parse(data []byte) (Value, error) {
	p := parser{data: data}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos < len(p.data) {
		return Value{}, p.fail("after top-level value")
	}
	return v, nil
}

// Valid reports whether data is one JSON value, as json.Valid does (but
// for nesting deeper than 512 levels).
func Valid(data []byte) bool {
	_, err := Parse(data)
	return err == nil
}

type parser struct {
	data  []byte
	pos   int
	depth int
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// fail reports the byte at pos as unexpected in context, or the end of the
// input when there is no byte left.
func (p *parser) fail(context string) error {
	if p.pos >= len(p.data) {
		return &SyntaxError{Offset: int64(len(p.data)), Msg: "unexpected end of JSON input"}
	}
	return &SyntaxError{Offset: int64(p.pos + 1), Msg: "invalid character " + quoteChar(p.data[p.pos]) + " " + context}
}

// failInToken is fail inside a literal, a number or an escape, where
// encoding/json words the end of the input as an unexpected space (it
// checks the end by feeding its scanner one).
func (p *parser) failInToken(context string) error {
	if p.pos >= len(p.data) {
		return &SyntaxError{Offset: int64(len(p.data) + 1), Msg: "invalid character ' ' " + context}
	}
	return p.fail(context)
}

// quoteChar formats c as encoding/json's messages do.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (p *parser) value() (Value, error) {
	if p.pos >= len(p.data) {
		return Value{}, p.fail("")
	}
	start := p.pos
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return Value{Kind: String, Raw: p.data[start:p.pos], Str: s}, err
	case c == '-' || '0' <= c && c <= '9':
		if err := p.number(); err != nil {
			return Value{}, err
		}
		return Value{Kind: Number, Raw: p.data[start:p.pos]}, nil
	case c == 't':
		err := p.literal("true")
		return Value{Kind: Bool, Raw: p.data[start:p.pos], True: true}, err
	case c == 'f':
		err := p.literal("false")
		return Value{Kind: Bool, Raw: p.data[start:p.pos]}, err
	case c == 'n':
		err := p.literal("null")
		return Value{Kind: Null, Raw: p.data[start:p.pos]}, err
	}
	return Value{}, p.fail("looking for beginning of value")
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return &SyntaxError{Offset: int64(p.pos), Msg: "invalid character " + quoteChar(p.data[p.pos-1]) + " exceeded max depth", tooDeep: true}
	}
	return nil
}

func (p *parser) object() (Value, error) {
	start := p.pos
	p.pos++ // {
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	v := Value{Kind: Object}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		v.Raw = p.data[start:p.pos]
		return v, nil
	}
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return Value{}, p.fail("looking for beginning of object key string")
		}
		key, err := p.str()
		if err != nil {
			return Value{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return Value{}, p.fail("after object key")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return Value{}, err
		}
		v.Members = append(v.Members, Member{Key: key, Value: val})
		p.skipSpace()
		if p.pos < len(p.data) {
			switch p.data[p.pos] {
			case ',':
				p.pos++
				p.skipSpace()
				continue
			case '}':
				p.pos++
				p.depth--
				v.Raw = p.data[start:p.pos]
				return v, nil
			}
		}
		return Value{}, p.fail("after object key:value pair")
	}
}

func (p *parser) array() (Value, error) {
	start := p.pos
	p.pos++ // [
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	v := Value{Kind: Array}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		v.Raw = p.data[start:p.pos]
		return v, nil
	}
	for {
		item, err := p.value()
		if err != nil {
			return Value{}, err
		}
		v.Items = append(v.Items, item)
		p.skipSpace()
		if p.pos < len(p.data) {
			switch p.data[p.pos] {
			case ',':
				p.pos++
				p.skipSpace()
				continue
			case ']':
				p.pos++
				p.depth--
				v.Raw = p.data[start:p.pos]
				return v, nil
			}
		}
		return Value{}, p.fail("after array element")
	}
}

func (p *parser) literal(word string) error {
	p.pos++ // the first letter, already matched
	for i := 1; i < len(word); i++ {
		if p.pos >= len(p.data) || p.data[p.pos] != word[i] {
			return p.failInToken("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		p.pos++
	}
	return nil
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *parser) number() error {
	if p.data[p.pos] == '-' {
		p.pos++
		if !p.digitHere() {
			return p.failInToken("in numeric literal")
		}
	}
	if p.data[p.pos] == '0' {
		p.pos++
	} else {
		p.digits()
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if !p.digitHere() {
			return p.failInToken("after decimal point in numeric literal")
		}
		p.digits()
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if !p.digitHere() {
			return p.failInToken("in exponent of numeric literal")
		}
		p.digits()
	}
	return nil
}

func (p *parser) digitHere() bool {
	return p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9'
}

func (p *parser) digits() {
	for p.digitHere() {
		p.pos++
	}
}

// str scans a string literal starting at its opening quote and returns its
// decoded text.
func (p *parser) str() (string, error) {
	p.pos++ // "
	start := p.pos
	plain := true // no escapes and valid UTF-8: the text is the bytes
	for {
		if p.pos >= len(p.data) {
			return "", p.fail("")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			raw := p.data[start:p.pos]
			p.pos++
			if plain {
				return string(raw), nil
			}
			return unquote(raw), nil
		case c == '\\':
			plain = false
			p.pos++
			if p.pos >= len(p.data) {
				return "", p.failInToken("in string escape code")
			}
			switch p.data[p.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos++
			case 'u':
				p.pos++
				for range 4 {
					if p.pos >= len(p.data) || !isHex(p.data[p.pos]) {
						return "", p.failInToken("in \\u hexadecimal character escape")
					}
					p.pos++
				}
			default:
				return "", p.failInToken("in string escape code")
			}
		case c < 0x20:
			return "", p.fail("in string literal")
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			p.pos += size
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote decodes the inside of a string literal already checked by str, as
// encoding/json does: escapes resolved, surrogate pairs joined, and invalid
// UTF-8 or a lone surrogate replaced by U+FFFD.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'u':
				rr := hex4(s[r+2:])
				r += 6
				if 0xD800 <= rr && rr < 0xE000 {
					if rr < 0xDC00 && r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if lo := hex4(s[r+2:]); 0xDC00 <= lo && lo < 0xE000 {
							b = utf8.AppendRune(b, (rr-0xD800)<<10|(lo-0xDC00)+0x10000)
							r += 6
							break
						}
					}
					rr = utf8.RuneError
				}
				b = utf8.AppendRune(b, rr)
			default:
				b = append(b, unescape(e))
				r += 2
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return string(b)
}

func unescape(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return e // " \ /
}

// hex4 reads four hex digits, already checked by str.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
