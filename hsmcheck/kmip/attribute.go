package kmip

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// Attribute is one KMIP 1.x attribute: a name, an index among the values of a multi-valued
// attribute, and a value whose tag is Attribute Value.
type Attribute struct {
	Name  string
	Index int32
	Value Item
}

// NewAttribute returns the attribute name with value v, retagged as Attribute Value.
func NewAttribute(name string, v Item) Attribute {
	v.Tag = TagAttributeValue
	return Attribute{Name: name, Value: v}
}

// NameAttribute returns a Name attribute holding an uninterpreted text string.
func NameAttribute(name string) Attribute {
	return NewAttribute(AttrName, Struct(0, Text(TagNameValue, name), Enum(TagNameType, NameUninterpretedText)))
}

// LinkAttribute returns a Link attribute pointing at object id.
func LinkAttribute(t LinkType, id string) Attribute {
	return NewAttribute(AttrLink, Struct(0, Enum(TagLinkType, t), Text(TagLinkedObjectIdentifier, id)))
}

// ObjectTypeAttribute returns an Object Type attribute, the usual Locate filter.
func ObjectTypeAttribute(t ObjectType) Attribute { return NewAttribute(AttrObjectType, Enum(0, t)) }

// AlgorithmAttribute returns a Cryptographic Algorithm attribute.
func AlgorithmAttribute(a CryptographicAlgorithm) Attribute {
	return NewAttribute(AttrCryptographicAlgorithm, Enum(0, a))
}

// LengthAttribute returns a Cryptographic Length attribute.
func LengthAttribute(bits int32) Attribute {
	return NewAttribute(AttrCryptographicLength, Int(0, bits))
}

// UsageAttribute returns a Cryptographic Usage Mask attribute.
func UsageAttribute(m UsageMask) Attribute {
	return NewAttribute(AttrCryptographicUsageMask, Int(0, int32(m)))
}

// ObjectGroupAttribute returns an Object Group attribute.
func ObjectGroupAttribute(group string) Attribute {
	return NewAttribute(AttrObjectGroup, Text(0, group))
}

// AppInfo is one Application Specific Information value: data an application keeps on an object
// under its own namespace.
type AppInfo struct {
	Namespace string `json:"namespace"`
	Data      string `json:"data"`
}

// AppInfoAttribute returns an Application Specific Information attribute.
func AppInfoAttribute(info AppInfo) Attribute {
	return NewAttribute(AttrApplicationSpecificInformation, Struct(0,
		Text(TagApplicationNamespace, info.Namespace), Text(TagApplicationData, info.Data)))
}

// CurveAttribute returns a Cryptographic Domain Parameters attribute naming curve c, which is how
// KMIP 1.2 asks CreateKeyPair for an elliptic-curve key on that curve.
func CurveAttribute(c RecommendedCurve) Attribute {
	return NewAttribute(AttrCryptographicDomainParameters, Struct(0, Enum(TagRecommendedCurve, c)))
}

// Item returns the attribute's Attribute structure.
func (a Attribute) Item() Item {
	f := []Item{Text(TagAttributeName, a.Name)}
	if a.Index != 0 {
		f = append(f, Int(TagAttributeIndex, a.Index))
	}
	v := a.Value
	v.Tag = TagAttributeValue
	return Struct(TagAttribute, append(f, v)...)
}

// Attributes is what GetAttributes returned, in the server's order.
type Attributes []Attribute

func parseAttributes(p Item) (Attributes, error) {
	var out Attributes
	for _, f := range p.All(TagAttribute) {
		name, err := text(f, TagAttributeName, OpGetAttributes)
		if err != nil {
			return nil, err
		}
		a := Attribute{Name: name}
		if idx, ok := f.Field(TagAttributeIndex); ok {
			a.Index, _ = idx.Value.(int32)
		}
		v, ok := f.Field(TagAttributeValue)
		if !ok {
			return nil, fmt.Errorf("%w: attribute %q has no value", ErrMalformed, name)
		}
		a.Value = v
		out = append(out, a)
	}
	return out, nil
}

// Get returns the value of the first attribute called name.
func (as Attributes) Get(name string) (Item, bool) {
	for _, a := range as {
		if a.Name == name {
			return a.Value, true
		}
	}
	return Item{}, false
}

// All returns the values of every attribute called name.
func (as Attributes) All(name string) []Item {
	var out []Item
	for _, a := range as {
		if a.Name == name {
			out = append(out, a.Value)
		}
	}
	return out
}

// Enum returns an Enumeration attribute's value.
func (as Attributes) Enum(name string) (uint32, bool) {
	v, ok := as.Get(name)
	e, isEnum := v.Value.(uint32)
	return e, ok && isEnum
}

// Int returns an Integer attribute's value.
func (as Attributes) Int(name string) (int32, bool) {
	v, ok := as.Get(name)
	i, isInt := v.Value.(int32)
	return i, ok && isInt
}

// Time returns a Date-Time attribute's value, the zero time when it is absent.
func (as Attributes) Time(name string) time.Time {
	v, _ := as.Get(name)
	t, _ := v.Value.(time.Time)
	return t
}

// Names returns the Name Value of every Name attribute.
func (as Attributes) Names() []string {
	var out []string
	for _, v := range as.All(AttrName) {
		if f, ok := v.Field(TagNameValue); ok {
			if s, ok := f.Value.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// Texts returns the values of every Text String attribute called name (Object Group, say).
func (as Attributes) Texts(name string) []string {
	var out []string
	for _, v := range as.All(name) {
		if s, ok := v.Value.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// AppInfos returns every Application Specific Information value.
func (as Attributes) AppInfos() []AppInfo {
	var out []AppInfo
	for _, v := range as.All(AttrApplicationSpecificInformation) {
		ns, _ := v.Field(TagApplicationNamespace)
		data, _ := v.Field(TagApplicationData)
		n, ok1 := ns.Value.(string)
		d, ok2 := data.Value.(string)
		if ok1 && ok2 {
			out = append(out, AppInfo{Namespace: n, Data: d})
		}
	}
	return out
}

// Links returns the object identifiers the Link attributes of type t point at.
func (as Attributes) Links(t LinkType) []string {
	var out []string
	for _, v := range as.All(AttrLink) {
		lt, _ := v.Field(TagLinkType)
		id, _ := v.Field(TagLinkedObjectIdentifier)
		typ, ok1 := lt.Value.(uint32)
		s, ok2 := id.Value.(string)
		if ok1 && ok2 && LinkType(typ) == t {
			out = append(out, s)
		}
	}
	return out
}

// curves maps KMIP Recommended Curve values to the curves Go implements.
var curves = map[uint32]elliptic.Curve{0x07: elliptic.P256(), 0x0A: elliptic.P384(), 0x0D: elliptic.P521()}

// PublicKey parses a public key object: X.509 SubjectPublicKeyInfo, PKCS#1 RSA, Raw (either of
// those, as some servers label them), or a transparent RSA or EC public key.
func (o *Object) PublicKey() (crypto.PublicKey, error) {
	if o.Wrapped {
		return nil, fmt.Errorf("parsing public key %q: it is wrapped", o.ID)
	}
	switch o.Format {
	case FormatX509:
		k, err := x509.ParsePKIXPublicKey(o.Material)
		return k, pubError(o.ID, err)
	case FormatPKCS1:
		return pkcs1(o.ID, o.Material)
	case FormatRaw:
		if k, err := x509.ParsePKIXPublicKey(o.Material); err == nil {
			return k, nil
		}
		return pkcs1(o.ID, o.Material)
	case FormatTransparentRSAPublicKey:
		m, _ := o.Transparent.Field(TagModulus)
		e, _ := o.Transparent.Field(TagPublicExponent)
		n, ok1 := m.Value.(*big.Int)
		x, ok2 := e.Value.(*big.Int)
		if !ok1 || !ok2 || n.Sign() <= 0 || x.Sign() <= 0 || !x.IsInt64() || x.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("parsing public key %q: transparent RSA key lacks a valid modulus and exponent", o.ID)
		}
		return &rsa.PublicKey{N: n, E: int(x.Int64())}, nil
	case FormatTransparentECPublicKey, FormatTransparentECDSAPublicKey:
		rc, _ := o.Transparent.Field(TagRecommendedCurve)
		q, _ := o.Transparent.Field(TagQString)
		id, _ := rc.Value.(uint32)
		point, _ := q.Value.([]byte)
		curve, ok := curves[id]
		if !ok {
			return nil, fmt.Errorf("parsing public key %q: recommended curve 0x%X is not supported", o.ID, id)
		}
		return ecPublicKey(o.ID, curve, point)
	}
	return nil, fmt.Errorf("parsing public key %q: key format %s is not supported", o.ID, o.Format)
}

func pkcs1(id string, der []byte) (crypto.PublicKey, error) {
	k, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return nil, pubError(id, err)
	}
	return k, nil
}

func pubError(id string, err error) error {
	if err != nil {
		return fmt.Errorf("parsing public key %q: %w", id, err)
	}
	return nil
}

func ecPublicKey(id string, curve elliptic.Curve, point []byte) (crypto.PublicKey, error) {
	k, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("parsing public key %q: %w", id, err)
	}
	return k, nil
}
