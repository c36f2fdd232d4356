package kmip

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// cmpItems compares items, big integers by value.
var cmpItems = cmp.Comparer(func(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Cmp(b) == 0
})

var nonHex = regexp.MustCompile(`[\s|]`)

// readHex reads a testdata file of hex bytes; lines starting with # are comments, and spaces and
// | separators are ignored.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(f), "\n") {
		if !strings.HasPrefix(line, "#") {
			sb.WriteString(line)
		}
	}
	b, err := hex.DecodeString(nonHex.ReplaceAllString(sb.String(), ""))
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return b
}

// specExamples reads testdata/spec-examples.txt: NAME: BYTES per line.
func specExamples(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "spec-examples.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, bs, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("spec-examples.txt: malformed line %q", line)
		}
		b, err := hex.DecodeString(nonHex.ReplaceAllString(bs, ""))
		if err != nil {
			t.Fatalf("spec-examples.txt: %s: %v", name, err)
		}
		out[name] = b
	}
	return out
}

func bigInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return v
}

// TestSpecExamples checks the codec against the KMIP 1.2 specification's TTLV examples, both
// ways.
func TestSpecExamples(t *testing.T) {
	examples := specExamples(t)
	tests := []struct {
		name string
		item Item
	}{
		{"integer-8", Int(0x420020, 8)},
		{"long-integer-123456789000000000", Long(0x420020, 123456789000000000)},
		{"big-integer-1234567890000000000000000000", Big(0x420020, bigInt("1234567890000000000000000000"))},
		{"enumeration-255", Enum(0x420020, uint32(255))},
		{"boolean-true", Bool(0x420020, true)},
		{"text-string-hello-world", Text(0x420020, "Hello World")},
		{"byte-string-010203", Bytes(0x420020, []byte{1, 2, 3})},
		{"date-time-2008-03-14T11:56:40Z", DateTime(0x420020, time.Date(2008, 3, 14, 11, 56, 40, 0, time.UTC))},
		{"interval-10-days", Interval(0x420020, 10*24*time.Hour)},
		{"structure-enum-254-integer-255", Struct(0x420020, Enum(0x420004, uint32(254)), Int(0x420005, 255))},
	}
	if len(tests) != len(examples) {
		t.Errorf("spec-examples.txt has %d examples, the test knows %d", len(examples), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := examples[tc.name]
			if !ok {
				t.Fatalf("no example %q in spec-examples.txt", tc.name)
			}
			got, err := tc.item.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encoding:\n got % X\nwant % X", got, want)
			}
			dec, err := Unmarshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.item, dec, cmpItems); diff != "" {
				t.Errorf("decoding (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUseCaseCreate checks the request and response of the KMIP use case 3.1.1 (Create) against
// the messages the client builds and parses.
func TestUseCaseCreate(t *testing.T) {
	t.Run("request", func(t *testing.T) {
		want := readHex(t, "usecase-3.1.1-create-request.hex")
		payload := []Item{
			Enum(TagObjectType, ObjectSymmetricKey),
			templateAttribute(TagTemplateAttribute, []Attribute{
				AlgorithmAttribute(AlgAES), LengthAttribute(128), UsageAttribute(UsageEncrypt | UsageDecrypt),
			}),
		}
		got, err := buildRequest(ProtocolVersion{1, 0}, []Request{{Operation: OpCreate, Payload: payload}}).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("request:\n got %X\nwant %X", got, want)
		}
		dec, err := Unmarshal(want)
		if err != nil {
			t.Fatal(err)
		}
		again, err := dec.MarshalBinary()
		if err != nil || !bytes.Equal(again, want) {
			t.Errorf("re-encoding the decoded request changed it (err %v)", err)
		}
	})
	t.Run("response", func(t *testing.T) {
		raw := readHex(t, "usecase-3.1.1-create-response.hex")
		rs, err := parseResponse(raw, []Request{{Operation: OpCreate}})
		if err != nil {
			t.Fatal(err)
		}
		want := []Response{{
			Operation: OpCreate,
			Payload: Struct(TagResponsePayload,
				Enum(TagObjectType, ObjectSymmetricKey),
				Text(TagUniqueIdentifier, "fc8833de-70d2-4ece-b063-fede3a3c59fe")),
		}}
		if diff := cmp.Diff(want, rs, cmpItems); diff != "" {
			t.Errorf("response (-want +got):\n%s", diff)
		}
		msg, err := Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		hdr, _ := msg.Field(TagResponseHeader)
		ts, _ := hdr.Field(TagTimeStamp)
		if want := time.Date(2009, 11, 12, 10, 47, 30, 0, time.UTC); ts.Value != want {
			t.Errorf("time stamp %v, want %v", ts.Value, want)
		}
		again, err := msg.MarshalBinary()
		if err != nil || !bytes.Equal(again, raw) {
			t.Errorf("re-encoding the decoded response changed it (err %v)", err)
		}
	})
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		item Item
		size int // encoded size
	}{
		{"integer min", Int(TagCryptographicLength, -1<<31), 16},
		{"integer max", Int(TagCryptographicLength, 1<<31-1), 16},
		{"long negative", Long(0x420020, -42), 16},
		{"big zero", Big(0x420020, big.NewInt(0)), 16},
		{"big minus one", Big(0x420020, big.NewInt(-1)), 16},
		{"big 2^63 needs a sign byte", Big(0x420020, new(big.Int).Lsh(big.NewInt(1), 63)), 24},
		{"big 2^64-1", Big(0x420020, bigInt("18446744073709551615")), 24},
		{"big -2^63 fits", Big(0x420020, new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 63))), 16},
		{"big -2^63-1", Big(0x420020, bigInt("-9223372036854775809")), 24},
		{"big negative spec", Big(0x420020, bigInt("-1234567890000000000000000000")), 24},
		{"enumeration", Enum(TagState, StateActive), 16},
		{"boolean false", Bool(0x420020, false), 16},
		{"text empty", Text(TagNameValue, ""), 8},
		{"text 8 bytes", Text(TagNameValue, "12345678"), 16},
		{"text utf-8", Text(TagNameValue, "clé"), 16},
		{"bytes empty", Bytes(TagData, []byte{}), 8},
		{"bytes 9", Bytes(TagData, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}), 24},
		{"date-time before 1970", DateTime(TagInitialDate, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)), 16},
		{"interval max", Interval(0x420020, (1<<32-1)*time.Second), 16},
		{"empty structure", Struct(TagTemplateAttribute), 8},
		{"extension tag", Text(0x540001, "x"), 16},
		{"nested", Struct(TagRequestMessage, Struct(TagRequestHeader, Struct(TagProtocolVersion, Int(TagProtocolVersionMajor, 1), Int(TagProtocolVersionMinor, 2))), Bytes(TagUniqueBatchItemID, []byte{0, 0, 0, 1})), 72},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.item.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tc.size {
				t.Errorf("encoded %d bytes, want %d: % X", len(b), tc.size, b)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.item
			if s, ok := want.Value.([]Item); ok && len(s) == 0 {
				want.Value = []Item{}
			}
			if diff := cmp.Diff(want, got, cmpItems); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		item Item
	}{
		{"tag wider than 24 bits", Int(0x1420020, 1)},
		{"value of the wrong Go type", Item{Tag: 0x420020, Type: TypeInteger, Value: int64(1)}},
		{"nil big integer", Item{Tag: 0x420020, Type: TypeBigInteger}},
		{"unknown type", Item{Tag: 0x420020, Type: 0x0B, Value: int64(1)}},
		{"negative interval", Interval(0x420020, -time.Second)},
		{"fractional interval", Interval(0x420020, 1500*time.Millisecond)},
		{"interval past 2^32 seconds", Interval(0x420020, (1<<32)*time.Second)},
		{"bad field in a structure", Struct(TagRequestMessage, Text(TagNameValue, "ok"), Item{Tag: 0x420020, Type: TypeTextString, Value: 3})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := tc.item.MarshalBinary(); err == nil {
				t.Errorf("encoded % X, want an error", b)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(nonHex.ReplaceAllString(s, ""))
		if err != nil {
			panic(err)
		}
		return b
	}
	tests := []struct {
		name   string
		in     []byte
		offset int    // DecodeError.Offset
		msg    string // part of the message
	}{
		{"empty", nil, 0, "header needs 8 bytes, 0 left"},
		{"short header", h("42 00 20 | 02 | 00 00"), 0, "header needs 8 bytes"},
		{"value truncated", h("42 00 20 | 02 | 00 00 00 04 | 00 00"), 4, "claims 4 bytes, 2 left"},
		{"padding missing", h("42 00 20 | 02 | 00 00 00 04 | 00 00 00 08"), 12, "missing 4 padding bytes"},
		{"non-zero padding", h("42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 01 00"), 14, "non-zero padding"},
		{"text padding", h("42 00 20 | 07 | 00 00 00 01 | 41 00 00 00 00 00 00 FF"), 15, "non-zero padding"},
		{"integer of length 8", h("42 00 20 | 02 | 00 00 00 08 | 00 00 00 08 00 00 00 00"), 4, "has length 8, want 4"},
		{"boolean of length 4", h("42 00 20 | 06 | 00 00 00 04 | 00 00 00 01 00 00 00 00"), 4, "want 8"},
		{"boolean 2", h("42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 02"), 8, "want 0 or 1"},
		{"big integer of length 0", h("42 00 20 | 04 | 00 00 00 00"), 4, "positive multiple of 8"},
		{"big integer of length 4", h("42 00 20 | 04 | 00 00 00 04 | 00 00 00 01 00 00 00 00"), 4, "positive multiple of 8"},
		{"unknown type", h("42 00 20 | 0B | 00 00 00 08 | 00 00 00 00 00 00 00 00"), 3, "unknown item type 0x0B"},
		{"type zero", h("42 00 20 | 00 | 00 00 00 00"), 3, "unknown item type 0x00"},
		{"tag outside KMIP ranges", h("43 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"), 0, "outside the KMIP"},
		{"oversize length", h("42 00 20 | 08 | FF FF FF F0 | 00 00 00 00 00 00 00 00"), 4, "claims 4294967280 bytes, 8 left"},
		{"structure length not a multiple of 8", h("42 00 20 | 01 | 00 00 00 04 | 00 00 00 00"), 4, "not a multiple of 8"},
		{"structure longer than the input", h("42 00 20 | 01 | 00 00 00 18 | 42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"), 4, "claims 24 bytes, 16 left"},
		{"field overruns its structure", h("42 00 20 | 01 | 00 00 00 08 | 42 00 21 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"), 12, "claims 4 bytes, 0 left"},
		{"trailing bytes", h("42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00 | 00"), 16, "1 bytes follow the item"},
		{"too deep", deep(maxDepth + 1), 8 * maxDepth, "nest deeper than 32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it, err := Unmarshal(tc.in)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", it)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			if de.Offset != tc.offset || !strings.Contains(de.Msg, tc.msg) {
				t.Errorf("error %q at %d, want %q at %d", de.Msg, de.Offset, tc.msg, tc.offset)
			}
		})
	}
	t.Run("deep but allowed", func(t *testing.T) {
		if _, err := Unmarshal(deep(maxDepth)); err != nil {
			t.Errorf("nesting %d deep: %v", maxDepth, err)
		}
	})
}

// deep returns n structures nested in each other, the innermost empty.
func deep(n int) []byte {
	it := Struct(0x420020)
	for i := 1; i < n; i++ {
		it = Struct(0x420020, it)
	}
	b, err := it.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

func TestReadMessage(t *testing.T) {
	msg, err := Struct(TagResponseMessage, Int(TagBatchCount, 1)).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      []byte
		limit   int
		want    []byte
		wantErr string
	}{
		{"whole message, rest left unread", append(append([]byte{}, msg...), 0xAA), 0, msg, ""},
		{"at the limit", msg, len(msg), msg, ""},
		{"over the limit", msg, len(msg) - 8, nil, "exceeds the 16-byte limit"},
		{"4 GiB announced", []byte{0x42, 0x00, 0x7B, 0x01, 0xFF, 0xFF, 0xFF, 0xF8}, 0, nil, "exceeds the 16777216-byte limit"},
		{"not a structure", []byte{0x42, 0x00, 0x7B, 0x02, 0, 0, 0, 4}, 0, nil, "is a Integer, want a Structure"},
		{"short header", msg[:5], 0, nil, "reading TTLV header: unexpected EOF"},
		{"truncated body", msg[:len(msg)-1], 0, nil, "reading TTLV message of 24 bytes: unexpected EOF"},
		{"nothing", nil, 0, nil, "reading TTLV header: EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadMessage(bytes.NewReader(tc.in), tc.limit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("read % X, want % X", got, tc.want)
			}
		})
	}
	t.Run("a huge announced length allocates nothing", func(t *testing.T) {
		r := io.MultiReader(bytes.NewReader([]byte{0x42, 0x00, 0x7B, 0x01, 0x00, 0xFF, 0xFF, 0xF8}), zeros{})
		allocs := testing.AllocsPerRun(10, func() { ReadMessage(r, 0) })
		if allocs > 8 {
			t.Errorf("%v allocations refusing a 16 MiB message, want only the error's", allocs)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestItemAccessors(t *testing.T) {
	it := Struct(TagResponsePayload, Text(TagUniqueIdentifier, "a"), Int(TagMaximumItems, 1), Text(TagUniqueIdentifier, "b"))
	if f, ok := it.Field(TagUniqueIdentifier); !ok || f.Value != "a" {
		t.Errorf("Field = %+v, %v; want the first identifier", f, ok)
	}
	if _, ok := it.Field(TagData); ok {
		t.Error("Field found a tag that is not there")
	}
	var ids []string
	for _, f := range it.All(TagUniqueIdentifier) {
		ids = append(ids, f.Value.(string))
	}
	if diff := cmp.Diff([]string{"a", "b"}, ids); diff != "" {
		t.Errorf("All (-want +got):\n%s", diff)
	}
	if Text(TagData, "x").Fields() != nil {
		t.Error("Fields of a text string is not nil")
	}
	if got := TypeDateTime.String() + "/" + Type(0x20).String() + "/" + TagData.String(); got != "Date-Time/type 0x20/0x4200C2" {
		t.Errorf("names: %s", got)
	}
}
