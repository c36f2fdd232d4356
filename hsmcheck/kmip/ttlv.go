package kmip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"time"
)

// Tag identifies a TTLV field. Only the low 24 bits are encoded.
type Tag uint32

func (t Tag) String() string { return fmt.Sprintf("0x%06X", uint32(t)) }

// Type is a TTLV item type.
type Type byte

// TTLV item types.
const (
	TypeStructure   Type = 0x01
	TypeInteger     Type = 0x02
	TypeLongInteger Type = 0x03
	TypeBigInteger  Type = 0x04
	TypeEnumeration Type = 0x05
	TypeBoolean     Type = 0x06
	TypeTextString  Type = 0x07
	TypeByteString  Type = 0x08
	TypeDateTime    Type = 0x09
	TypeInterval    Type = 0x0A
)

var typeNames = map[Type]string{
	TypeStructure: "Structure", TypeInteger: "Integer", TypeLongInteger: "Long Integer",
	TypeBigInteger: "Big Integer", TypeEnumeration: "Enumeration", TypeBoolean: "Boolean",
	TypeTextString: "Text String", TypeByteString: "Byte String", TypeDateTime: "Date-Time",
	TypeInterval: "Interval",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type 0x%02X", byte(t))
}

// Limits that keep a hostile or broken server from making the decoder allocate without bound.
const (
	// MaxMessageSize caps one TTLV message, header included.
	MaxMessageSize = 16 << 20
	// maxDepth caps structure nesting; KMIP 1.2 messages nest less than 10 deep.
	maxDepth = 32
	// maxItems caps the items in one message (the smallest item is 16 bytes, so a message
	// under MaxMessageSize holds at most 1 Mi of them anyway; this keeps that explicit).
	maxItems = 1 << 20
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed TTLV")

// Item is one TTLV item. Value holds, by Type: Structure []Item, Integer int32, Long Integer
// int64, Big Integer *big.Int, Enumeration uint32, Boolean bool, Text String string, Byte String
// []byte, Date-Time time.Time, Interval time.Duration (whole seconds).
type Item struct {
	Tag   Tag
	Type  Type
	Value any
}

// Struct returns a Structure item.
func Struct(tag Tag, fields ...Item) Item { return Item{tag, TypeStructure, fields} }

// Int returns an Integer item.
func Int(tag Tag, v int32) Item { return Item{tag, TypeInteger, v} }

// Long returns a Long Integer item.
func Long(tag Tag, v int64) Item { return Item{tag, TypeLongInteger, v} }

// Big returns a Big Integer item.
func Big(tag Tag, v *big.Int) Item { return Item{tag, TypeBigInteger, v} }

// Enum returns an Enumeration item.
func Enum[E ~uint32](tag Tag, v E) Item { return Item{tag, TypeEnumeration, uint32(v)} }

// Bool returns a Boolean item.
func Bool(tag Tag, v bool) Item { return Item{tag, TypeBoolean, v} }

// Text returns a Text String item.
func Text(tag Tag, v string) Item { return Item{tag, TypeTextString, v} }

// Bytes returns a Byte String item.
func Bytes(tag Tag, v []byte) Item { return Item{tag, TypeByteString, v} }

// DateTime returns a Date-Time item; TTLV keeps whole seconds.
func DateTime(tag Tag, v time.Time) Item { return Item{tag, TypeDateTime, v} }

// Interval returns an Interval item; TTLV keeps whole seconds up to 2^32-1.
func Interval(tag Tag, v time.Duration) Item { return Item{tag, TypeInterval, v} }

// Fields returns a structure's fields, nil for any other type.
func (it Item) Fields() []Item {
	f, _ := it.Value.([]Item)
	return f
}

// Field returns the first field of a structure with the given tag.
func (it Item) Field(tag Tag) (Item, bool) {
	for _, f := range it.Fields() {
		if f.Tag == tag {
			return f, true
		}
	}
	return Item{}, false
}

// All returns every field of a structure with the given tag.
func (it Item) All(tag Tag) []Item {
	var out []Item
	for _, f := range it.Fields() {
		if f.Tag == tag {
			out = append(out, f)
		}
	}
	return out
}

// MarshalBinary encodes it as TTLV.
func (it Item) MarshalBinary() ([]byte, error) { return it.AppendTTLV(nil) }

// AppendTTLV appends the TTLV encoding of it to b.
func (it Item) AppendTTLV(b []byte) ([]byte, error) {
	if it.Tag > 0xFFFFFF {
		return b, fmt.Errorf("encoding tag %s: wider than 24 bits", it.Tag)
	}
	start := len(b)
	b = append(b, byte(it.Tag>>16), byte(it.Tag>>8), byte(it.Tag), byte(it.Type), 0, 0, 0, 0)
	var value []byte // for the types that are not encoded in place
	bad := func() ([]byte, error) {
		return b[:start], fmt.Errorf("encoding %s %s: value is %T", it.Type, it.Tag, it.Value)
	}
	switch it.Type {
	case TypeStructure:
		fields, ok := it.Value.([]Item)
		if !ok && it.Value != nil {
			return bad()
		}
		for _, f := range fields {
			var err error
			if b, err = f.AppendTTLV(b); err != nil {
				return b[:start], err
			}
		}
		n := len(b) - start - 8
		if n > math.MaxUint32 {
			return b[:start], fmt.Errorf("encoding structure %s: %d bytes is too long", it.Tag, n)
		}
		binary.BigEndian.PutUint32(b[start+4:], uint32(n))
		return b, nil
	case TypeInteger:
		v, ok := it.Value.(int32)
		if !ok {
			return bad()
		}
		value = binary.BigEndian.AppendUint32(nil, uint32(v))
	case TypeLongInteger:
		v, ok := it.Value.(int64)
		if !ok {
			return bad()
		}
		value = binary.BigEndian.AppendUint64(nil, uint64(v))
	case TypeBigInteger:
		v, ok := it.Value.(*big.Int)
		if !ok || v == nil {
			return bad()
		}
		value = bigIntBytes(v)
	case TypeEnumeration:
		v, ok := it.Value.(uint32)
		if !ok {
			return bad()
		}
		value = binary.BigEndian.AppendUint32(nil, v)
	case TypeBoolean:
		v, ok := it.Value.(bool)
		if !ok {
			return bad()
		}
		value = make([]byte, 8)
		if v {
			value[7] = 1
		}
	case TypeTextString:
		v, ok := it.Value.(string)
		if !ok {
			return bad()
		}
		value = []byte(v)
	case TypeByteString:
		v, ok := it.Value.([]byte)
		if !ok {
			return bad()
		}
		value = v
	case TypeDateTime:
		v, ok := it.Value.(time.Time)
		if !ok {
			return bad()
		}
		value = binary.BigEndian.AppendUint64(nil, uint64(v.Unix()))
	case TypeInterval:
		v, ok := it.Value.(time.Duration)
		if !ok {
			return bad()
		}
		if v < 0 || v%time.Second != 0 || v/time.Second > math.MaxUint32 {
			return b[:start], fmt.Errorf("encoding interval %s: %v is not a whole number of seconds in 0..2^32-1", it.Tag, v)
		}
		value = binary.BigEndian.AppendUint32(nil, uint32(v/time.Second))
	default:
		return b[:start], fmt.Errorf("encoding %s: unknown %s", it.Tag, it.Type)
	}
	if len(value) > math.MaxUint32 {
		return b[:start], fmt.Errorf("encoding %s %s: %d bytes is too long", it.Type, it.Tag, len(value))
	}
	binary.BigEndian.PutUint32(b[start+4:], uint32(len(value)))
	b = append(b, value...)
	return append(b, make([]byte, pad(len(value)))...), nil
}

// bigIntBytes returns v in big-endian two's complement, sign-extended to a multiple of 8 bytes.
func bigIntBytes(v *big.Int) []byte {
	var mag []byte
	if v.Sign() >= 0 {
		mag = v.Bytes()
		if len(mag) == 0 || mag[0]&0x80 != 0 {
			mag = append([]byte{0}, mag...)
		}
	} else {
		// -v - 1 has the complement of v's two's complement bits.
		m := new(big.Int).Neg(v)
		m.Sub(m, big.NewInt(1))
		mag = m.Bytes()
		if len(mag) == 0 || mag[0]&0x80 != 0 {
			mag = append([]byte{0}, mag...)
		}
		for i := range mag {
			mag[i] ^= 0xFF
		}
	}
	ext := byte(0)
	if v.Sign() < 0 {
		ext = 0xFF
	}
	out := make([]byte, pad(len(mag))+len(mag))
	for i := 0; i < len(out)-len(mag); i++ {
		out[i] = ext
	}
	copy(out[len(out)-len(mag):], mag)
	return out
}

func pad(n int) int { return (8 - n%8) % 8 }

// DecodeError is a decoding failure at a byte offset of the input. It wraps ErrMalformed.
type DecodeError struct {
	Offset int
	Msg    string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("decoding TTLV at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap lets errors.Is find ErrMalformed.
func (e *DecodeError) Unwrap() error { return ErrMalformed }

// Unmarshal decodes exactly one TTLV item that spans all of b. Byte strings in the result share
// b's memory.
func Unmarshal(b []byte) (Item, error) {
	if len(b) > MaxMessageSize {
		return Item{}, &DecodeError{0, fmt.Sprintf("%d bytes exceed the %d-byte message limit", len(b), MaxMessageSize)}
	}
	d := decoder{buf: b}
	it, n, err := d.item(0, len(b), 0)
	if err != nil {
		return Item{}, err
	}
	if n != len(b) {
		return Item{}, &DecodeError{n, fmt.Sprintf("%d bytes follow the item", len(b)-n)}
	}
	return it, nil
}

type decoder struct {
	buf   []byte
	items int
}

// fixedLength holds the value length of the types that have one.
var fixedLength = map[Type]uint32{TypeInteger: 4, TypeLongInteger: 8, TypeEnumeration: 4, TypeBoolean: 8, TypeDateTime: 8, TypeInterval: 4}

// item decodes the item at off, which must end by end, and returns it with the offset just
// past it.
func (d *decoder) item(off, end, depth int) (Item, int, error) {
	fail := func(at int, format string, args ...any) (Item, int, error) {
		return Item{}, 0, &DecodeError{at, fmt.Sprintf(format, args...)}
	}
	if d.items++; d.items > maxItems {
		return fail(off, "more than %d items", maxItems)
	}
	if end-off < 8 {
		return fail(off, "header needs 8 bytes, %d left", end-off)
	}
	h := d.buf[off : off+8]
	tag := Tag(h[0])<<16 | Tag(h[1])<<8 | Tag(h[2])
	typ := Type(h[3])
	length := binary.BigEndian.Uint32(h[4:])
	if h[0] != 0x42 && h[0] != 0x54 {
		return fail(off, "tag %s is outside the KMIP (42xxxx) and extension (54xxxx) ranges", tag)
	}
	if _, ok := typeNames[typ]; !ok {
		return fail(off+3, "unknown item type 0x%02X for tag %s", byte(typ), tag)
	}
	if w, fixed := fixedLength[typ]; fixed && length != w {
		return fail(off+4, "%s %s has length %d, want %d", typ, tag, length, w)
	}
	if typ == TypeBigInteger && (length == 0 || length%8 != 0) {
		return fail(off+4, "big integer %s has length %d, want a positive multiple of 8", tag, length)
	}
	if typ == TypeStructure && length%8 != 0 {
		return fail(off+4, "structure %s has length %d, not a multiple of 8", tag, length)
	}
	start := off + 8
	left := end - start
	if uint64(length) > uint64(left) {
		return fail(off+4, "%s %s claims %d bytes, %d left", typ, tag, length, left)
	}
	n := int(length)
	padded := n + pad(n)
	if padded > left {
		return fail(start+n, "%s %s is missing %d padding bytes", typ, tag, padded-left)
	}
	for i := start + n; i < start+padded; i++ {
		if d.buf[i] != 0 {
			return fail(i, "%s %s has non-zero padding", typ, tag)
		}
	}
	v := d.buf[start : start+n : start+n]
	it := Item{Tag: tag, Type: typ}
	switch typ {
	case TypeStructure:
		if depth >= maxDepth {
			return fail(off, "structures nest deeper than %d", maxDepth)
		}
		fields := []Item{}
		for p := start; p < start+n; {
			var f Item
			var err error
			if f, p, err = d.item(p, start+n, depth+1); err != nil {
				return Item{}, 0, err
			}
			fields = append(fields, f)
		}
		it.Value = fields
	case TypeInteger:
		it.Value = int32(binary.BigEndian.Uint32(v))
	case TypeLongInteger:
		it.Value = int64(binary.BigEndian.Uint64(v))
	case TypeBigInteger:
		x := new(big.Int).SetBytes(v)
		if v[0]&0x80 != 0 {
			x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
		}
		it.Value = x
	case TypeEnumeration:
		it.Value = binary.BigEndian.Uint32(v)
	case TypeBoolean:
		x := binary.BigEndian.Uint64(v)
		if x > 1 {
			return fail(start, "boolean %s has value %d, want 0 or 1", tag, x)
		}
		it.Value = x == 1
	case TypeTextString:
		// Not checked for UTF-8: one odd key label must not make a whole inventory unreadable.
		it.Value = string(v)
	case TypeByteString:
		it.Value = v
	case TypeDateTime:
		it.Value = time.Unix(int64(binary.BigEndian.Uint64(v)), 0).UTC()
	case TypeInterval:
		it.Value = time.Duration(binary.BigEndian.Uint32(v)) * time.Second
	}
	return it, start + padded, nil
}

// ReadMessage reads one TTLV message from r: an 8-byte header, then the length it states. It
// refuses messages whose header is not a structure or that would exceed limit bytes (at most
// MaxMessageSize) before allocating for them.
func ReadMessage(r io.Reader, limit int) ([]byte, error) {
	if limit <= 0 || limit > MaxMessageSize {
		limit = MaxMessageSize
	}
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("reading TTLV header: %w", err)
	}
	if Type(h[3]) != TypeStructure {
		return nil, &DecodeError{3, fmt.Sprintf("message is a %s, want a Structure", Type(h[3]))}
	}
	n := binary.BigEndian.Uint32(h[4:])
	if uint64(n)+8 > uint64(limit) {
		return nil, &DecodeError{4, fmt.Sprintf("message of %d bytes exceeds the %d-byte limit", uint64(n)+8, limit)}
	}
	msg := make([]byte, 8+int(n))
	copy(msg, h[:])
	if _, err := io.ReadFull(r, msg[8:]); err != nil {
		return nil, fmt.Errorf("reading TTLV message of %d bytes: %w", n+8, err)
	}
	return msg, nil
}
