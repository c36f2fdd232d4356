package kmip

import "fmt"

// Tags of the KMIP 1.2 fields this package reads or writes.
const (
	TagActivationDate               Tag = 0x420001
	TagAttribute                    Tag = 0x420008
	TagAttributeIndex               Tag = 0x420009
	TagAttributeName                Tag = 0x42000A
	TagAttributeValue               Tag = 0x42000B
	TagBatchCount                   Tag = 0x42000D
	TagBatchErrorContinuationOption Tag = 0x42000E
	TagBatchItem                    Tag = 0x42000F
	TagBlockCipherMode              Tag = 0x420011
	TagCommonTemplateAttribute      Tag = 0x42001F
	TagCompromiseOccurrenceDate     Tag = 0x420021
	TagCryptographicAlgorithm       Tag = 0x420028
	TagCryptographicLength          Tag = 0x42002A
	TagCryptographicParameters      Tag = 0x42002B
	TagCryptographicUsageMask       Tag = 0x42002C
	TagDeactivationDate             Tag = 0x42002F
	TagInitialDate                  Tag = 0x420039
	TagIVCounterNonce               Tag = 0x42003D
	TagKeyBlock                     Tag = 0x420040
	TagKeyCompressionType           Tag = 0x420041
	TagKeyFormatType                Tag = 0x420042
	TagKeyMaterial                  Tag = 0x420043
	TagKeyValue                     Tag = 0x420045
	TagKeyWrappingData              Tag = 0x420046
	TagLink                         Tag = 0x42004A
	TagLinkType                     Tag = 0x42004B
	TagLinkedObjectIdentifier       Tag = 0x42004C
	TagMACData                      Tag = 0x4200C6
	TagMaximumItems                 Tag = 0x42004F
	TagMaximumResponseSize          Tag = 0x420050
	TagModulus                      Tag = 0x420052
	TagName                         Tag = 0x420053
	TagNameType                     Tag = 0x420054
	TagNameValue                    Tag = 0x420055
	TagObjectType                   Tag = 0x420057
	TagOperation                    Tag = 0x42005C
	TagPaddingMethod                Tag = 0x42005F
	TagPrivateKey                   Tag = 0x420064
	TagPrivateKeyTemplateAttribute  Tag = 0x420065
	TagPrivateKeyUniqueIdentifier   Tag = 0x420066
	TagProtocolVersion              Tag = 0x420069
	TagProtocolVersionMajor         Tag = 0x42006A
	TagProtocolVersionMinor         Tag = 0x42006B
	TagPublicExponent               Tag = 0x42006C
	TagPublicKey                    Tag = 0x42006D
	TagPublicKeyTemplateAttribute   Tag = 0x42006E
	TagPublicKeyUniqueIdentifier    Tag = 0x42006F
	TagQString                      Tag = 0x420072
	TagQueryFunction                Tag = 0x420074
	TagRecommendedCurve             Tag = 0x420075
	TagRequestHeader                Tag = 0x420077
	TagRequestMessage               Tag = 0x420078
	TagRequestPayload               Tag = 0x420079
	TagResponseHeader               Tag = 0x42007A
	TagResponseMessage              Tag = 0x42007B
	TagResponsePayload              Tag = 0x42007C
	TagResultMessage                Tag = 0x42007D
	TagResultReason                 Tag = 0x42007E
	TagResultStatus                 Tag = 0x42007F
	TagRevocationMessage            Tag = 0x420080
	TagRevocationReason             Tag = 0x420081
	TagRevocationReasonCode         Tag = 0x420082
	TagServerInformation            Tag = 0x420088
	TagState                        Tag = 0x42008D
	TagSymmetricKey                 Tag = 0x42008F
	TagTemplateAttribute            Tag = 0x420091
	TagTimeStamp                    Tag = 0x420092
	TagUniqueBatchItemID            Tag = 0x420093
	TagUniqueIdentifier             Tag = 0x420094
	TagVendorIdentification         Tag = 0x42009D
	TagData                         Tag = 0x4200C2
	TagOffsetItems                  Tag = 0x4200D4 // KMIP 1.3
)

// Tags of the attributes a rotation copies to the replacement or tags it with.
const (
	TagApplicationData                Tag = 0x420002
	TagApplicationNamespace           Tag = 0x420003
	TagApplicationSpecificInformation Tag = 0x420004
	TagCryptographicDomainParameters  Tag = 0x420029
	TagObjectGroup                    Tag = 0x420056
)

// Attribute names, as KMIP 1.x spells them in Attribute Name.
const (
	AttrUniqueIdentifier       = "Unique Identifier"
	AttrName                   = "Name"
	AttrObjectType             = "Object Type"
	AttrCryptographicAlgorithm = "Cryptographic Algorithm"
	AttrCryptographicLength    = "Cryptographic Length"
	AttrCryptographicUsageMask = "Cryptographic Usage Mask"
	AttrState                  = "State"
	AttrInitialDate            = "Initial Date"
	AttrActivationDate         = "Activation Date"
	AttrDeactivationDate       = "Deactivation Date"
	AttrLink                   = "Link"
)

// Names of the attributes a rotation copies to the replacement or tags it with.
const (
	AttrObjectGroup                    = "Object Group"
	AttrApplicationSpecificInformation = "Application Specific Information"
	AttrCryptographicDomainParameters  = "Cryptographic Domain Parameters"
)

// Operation is a KMIP operation.
type Operation uint32

// Operations.
const (
	OpCreate           Operation = 0x01
	OpCreateKeyPair    Operation = 0x02
	OpRegister         Operation = 0x03
	OpLocate           Operation = 0x08
	OpGet              Operation = 0x0A
	OpGetAttributes    Operation = 0x0B
	OpAddAttribute     Operation = 0x0D
	OpModifyAttribute  Operation = 0x0E
	OpActivate         Operation = 0x12
	OpRevoke           Operation = 0x13
	OpDestroy          Operation = 0x14
	OpQuery            Operation = 0x18
	OpDiscoverVersions Operation = 0x1E
	OpEncrypt          Operation = 0x1F
	OpMAC              Operation = 0x23
)

var operationNames = map[Operation]string{
	OpCreate: "Create", OpCreateKeyPair: "CreateKeyPair", OpRegister: "Register", OpLocate: "Locate",
	OpGet: "Get", OpGetAttributes: "GetAttributes", OpAddAttribute: "AddAttribute",
	OpModifyAttribute: "ModifyAttribute", OpActivate: "Activate", OpRevoke: "Revoke",
	OpDestroy: "Destroy", OpQuery: "Query", OpDiscoverVersions: "DiscoverVersions",
	OpEncrypt: "Encrypt", OpMAC: "MAC",
}

func (o Operation) String() string { return enumString(operationNames, o, "operation") }

// ObjectType is a KMIP managed object type.
type ObjectType uint32

// Object types.
const (
	ObjectCertificate  ObjectType = 0x01
	ObjectSymmetricKey ObjectType = 0x02
	ObjectPublicKey    ObjectType = 0x03
	ObjectPrivateKey   ObjectType = 0x04
	ObjectSplitKey     ObjectType = 0x05
	ObjectTemplate     ObjectType = 0x06
	ObjectSecretData   ObjectType = 0x07
	ObjectOpaqueData   ObjectType = 0x08
)

var objectTypeNames = map[ObjectType]string{
	ObjectCertificate: "Certificate", ObjectSymmetricKey: "Symmetric Key", ObjectPublicKey: "Public Key",
	ObjectPrivateKey: "Private Key", ObjectSplitKey: "Split Key", ObjectTemplate: "Template",
	ObjectSecretData: "Secret Data", ObjectOpaqueData: "Opaque Object",
}

func (o ObjectType) String() string { return enumString(objectTypeNames, o, "object type") }

// ResultStatus is the outcome of one batch item.
type ResultStatus uint32

// Result statuses.
const (
	StatusSuccess          ResultStatus = 0
	StatusOperationFailed  ResultStatus = 1
	StatusOperationPending ResultStatus = 2
	StatusOperationUndone  ResultStatus = 3
)

var resultStatusNames = map[ResultStatus]string{
	StatusSuccess: "success", StatusOperationFailed: "operation failed",
	StatusOperationPending: "operation pending", StatusOperationUndone: "operation undone",
}

func (s ResultStatus) String() string { return enumString(resultStatusNames, s, "status") }

// ResultReason says why a batch item failed.
type ResultReason uint32

// Result reasons.
const (
	ReasonItemNotFound                ResultReason = 0x01
	ReasonResponseTooLarge            ResultReason = 0x02
	ReasonAuthenticationNotSuccessful ResultReason = 0x03
	ReasonInvalidMessage              ResultReason = 0x04
	ReasonOperationNotSupported       ResultReason = 0x05
	ReasonMissingData                 ResultReason = 0x06
	ReasonInvalidField                ResultReason = 0x07
	ReasonFeatureNotSupported         ResultReason = 0x08
	ReasonOperationCanceled           ResultReason = 0x09
	ReasonCryptographicFailure        ResultReason = 0x0A
	ReasonIllegalOperation            ResultReason = 0x0B
	ReasonPermissionDenied            ResultReason = 0x0C
	ReasonObjectArchived              ResultReason = 0x0D
	ReasonIndexOutOfBounds            ResultReason = 0x0E
	ReasonNamespaceNotSupported       ResultReason = 0x0F
	ReasonKeyFormatTypeNotSupported   ResultReason = 0x10
	ReasonKeyCompressionNotSupported  ResultReason = 0x11
	ReasonEncodingOptionError         ResultReason = 0x12
	ReasonKeyValueNotPresent          ResultReason = 0x13
	ReasonAttestationRequired         ResultReason = 0x14
	ReasonAttestationFailed           ResultReason = 0x15
	ReasonSensitive                   ResultReason = 0x16
	ReasonNotExtractable              ResultReason = 0x17
	ReasonObjectAlreadyExists         ResultReason = 0x18
	ReasonGeneralFailure              ResultReason = 0x100
)

var resultReasonNames = map[ResultReason]string{
	ReasonItemNotFound: "item not found", ReasonResponseTooLarge: "response too large",
	ReasonAuthenticationNotSuccessful: "authentication not successful", ReasonInvalidMessage: "invalid message",
	ReasonOperationNotSupported: "operation not supported", ReasonMissingData: "missing data",
	ReasonInvalidField: "invalid field", ReasonFeatureNotSupported: "feature not supported",
	ReasonOperationCanceled: "operation canceled by requester", ReasonCryptographicFailure: "cryptographic failure",
	ReasonIllegalOperation: "illegal operation", ReasonPermissionDenied: "permission denied",
	ReasonObjectArchived: "object archived", ReasonIndexOutOfBounds: "index out of bounds",
	ReasonNamespaceNotSupported:      "application namespace not supported",
	ReasonKeyFormatTypeNotSupported:  "key format type not supported",
	ReasonKeyCompressionNotSupported: "key compression type not supported",
	ReasonEncodingOptionError:        "encoding option error", ReasonKeyValueNotPresent: "key value not present",
	ReasonAttestationRequired: "attestation required", ReasonAttestationFailed: "attestation failed",
	ReasonSensitive: "sensitive", ReasonNotExtractable: "not extractable",
	ReasonObjectAlreadyExists: "object already exists", ReasonGeneralFailure: "general failure",
}

func (r ResultReason) String() string { return enumString(resultReasonNames, r, "reason") }

// State is a KMIP object's life-cycle state.
type State uint32

// States.
const (
	StatePreActive            State = 1
	StateActive               State = 2
	StateDeactivated          State = 3
	StateCompromised          State = 4
	StateDestroyed            State = 5
	StateDestroyedCompromised State = 6
)

var stateNames = map[State]string{
	StatePreActive: "Pre-Active", StateActive: "Active", StateDeactivated: "Deactivated",
	StateCompromised: "Compromised", StateDestroyed: "Destroyed", StateDestroyedCompromised: "Destroyed Compromised",
}

func (s State) String() string { return enumString(stateNames, s, "state") }

// CryptographicAlgorithm is a KMIP algorithm.
type CryptographicAlgorithm uint32

// Algorithms.
const (
	AlgDES        CryptographicAlgorithm = 0x01
	Alg3DES       CryptographicAlgorithm = 0x02
	AlgAES        CryptographicAlgorithm = 0x03
	AlgRSA        CryptographicAlgorithm = 0x04
	AlgDSA        CryptographicAlgorithm = 0x05
	AlgECDSA      CryptographicAlgorithm = 0x06
	AlgHMACSHA1   CryptographicAlgorithm = 0x07
	AlgHMACSHA224 CryptographicAlgorithm = 0x08
	AlgHMACSHA256 CryptographicAlgorithm = 0x09
	AlgHMACSHA384 CryptographicAlgorithm = 0x0A
	AlgHMACSHA512 CryptographicAlgorithm = 0x0B
	AlgHMACMD5    CryptographicAlgorithm = 0x0C
	AlgDH         CryptographicAlgorithm = 0x0D
	AlgECDH       CryptographicAlgorithm = 0x0E
	AlgECMQV      CryptographicAlgorithm = 0x0F
	AlgEC         CryptographicAlgorithm = 0x1A // KMIP 1.2
	AlgEd25519    CryptographicAlgorithm = 0x37 // KMIP 2.0
)

var algorithmNames = map[CryptographicAlgorithm]string{
	AlgDES: "DES", Alg3DES: "3DES", AlgAES: "AES", AlgRSA: "RSA", AlgDSA: "DSA", AlgECDSA: "ECDSA",
	AlgHMACSHA1: "HMAC-SHA1", AlgHMACSHA224: "HMAC-SHA224", AlgHMACSHA256: "HMAC-SHA256",
	AlgHMACSHA384: "HMAC-SHA384", AlgHMACSHA512: "HMAC-SHA512", AlgHMACMD5: "HMAC-MD5", AlgDH: "DH",
	AlgECDH: "ECDH", AlgECMQV: "ECMQV", AlgEC: "EC", AlgEd25519: "Ed25519",
}

func (a CryptographicAlgorithm) String() string { return enumString(algorithmNames, a, "algorithm") }

// KeyFormatType is how key material is encoded in a Key Block.
type KeyFormatType uint32

// Key format types.
const (
	FormatRaw                       KeyFormatType = 0x01
	FormatOpaque                    KeyFormatType = 0x02
	FormatPKCS1                     KeyFormatType = 0x03
	FormatPKCS8                     KeyFormatType = 0x04
	FormatX509                      KeyFormatType = 0x05
	FormatECPrivateKey              KeyFormatType = 0x06
	FormatTransparentSymmetricKey   KeyFormatType = 0x07
	FormatTransparentRSAPublicKey   KeyFormatType = 0x0B
	FormatTransparentECDSAPublicKey KeyFormatType = 0x0F
	FormatTransparentECPublicKey    KeyFormatType = 0x15 // KMIP 1.3
)

var formatNames = map[KeyFormatType]string{
	FormatRaw: "Raw", FormatOpaque: "Opaque", FormatPKCS1: "PKCS#1", FormatPKCS8: "PKCS#8",
	FormatX509: "X.509", FormatECPrivateKey: "EC Private Key", FormatTransparentSymmetricKey: "Transparent Symmetric Key",
	FormatTransparentRSAPublicKey: "Transparent RSA Public Key", FormatTransparentECDSAPublicKey: "Transparent ECDSA Public Key",
	FormatTransparentECPublicKey: "Transparent EC Public Key",
}

func (f KeyFormatType) String() string { return enumString(formatNames, f, "key format") }

// LinkType says how a Link attribute relates two objects.
type LinkType uint32

// Link types.
const (
	LinkCertificate       LinkType = 0x101
	LinkPublicKey         LinkType = 0x102
	LinkPrivateKey        LinkType = 0x103
	LinkReplacementObject LinkType = 0x106
	LinkReplacedObject    LinkType = 0x107
)

var linkTypeNames = map[LinkType]string{
	LinkCertificate: "Certificate", LinkPublicKey: "Public Key", LinkPrivateKey: "Private Key",
	LinkReplacementObject: "Replacement Object", LinkReplacedObject: "Replaced Object",
}

func (t LinkType) String() string { return enumString(linkTypeNames, t, "link type") }

// NameType is the kind of a Name attribute's value.
type NameType uint32

// Name types.
const (
	NameUninterpretedText NameType = 1
	NameURI               NameType = 2
)

// RevocationReasonCode says why an object is revoked.
type RevocationReasonCode uint32

// Revocation reason codes.
const (
	RevokeUnspecified          RevocationReasonCode = 1
	RevokeKeyCompromise        RevocationReasonCode = 2
	RevokeCACompromise         RevocationReasonCode = 3
	RevokeAffiliationChanged   RevocationReasonCode = 4
	RevokeSuperseded           RevocationReasonCode = 5
	RevokeCessationOfOperation RevocationReasonCode = 6
	RevokePrivilegeWithdrawn   RevocationReasonCode = 7
)

var revocationNames = map[RevocationReasonCode]string{
	RevokeUnspecified: "Unspecified", RevokeKeyCompromise: "Key Compromise", RevokeCACompromise: "CA Compromise",
	RevokeAffiliationChanged: "Affiliation Changed", RevokeSuperseded: "Superseded",
	RevokeCessationOfOperation: "Cessation of Operation", RevokePrivilegeWithdrawn: "Privilege Withdrawn",
}

func (c RevocationReasonCode) String() string {
	return enumString(revocationNames, c, "revocation reason")
}

// RecommendedCurve is a named elliptic curve of Cryptographic Domain Parameters.
type RecommendedCurve uint32

// Recommended curves Go implements.
const (
	CurveP256 RecommendedCurve = 0x07
	CurveP384 RecommendedCurve = 0x0A
	CurveP521 RecommendedCurve = 0x0D
)

// BlockCipherMode is a Cryptographic Parameters block cipher mode.
type BlockCipherMode uint32

// Block cipher modes.
const (
	ModeCBC BlockCipherMode = 1
	ModeECB BlockCipherMode = 2
)

// PaddingMethod is a Cryptographic Parameters padding method.
type PaddingMethod uint32

// Padding methods.
const (
	PaddingNone  PaddingMethod = 1
	PaddingPKCS5 PaddingMethod = 3
)

// QueryFunction selects what a Query asks for.
type QueryFunction uint32

// Query functions.
const (
	QueryOperations        QueryFunction = 1
	QueryObjects           QueryFunction = 2
	QueryServerInformation QueryFunction = 3
)

// BatchErrorContinuation says what a server does after a failed batch item.
type BatchErrorContinuation uint32

// Batch error continuation options.
const (
	BatchContinue BatchErrorContinuation = 1
	BatchStop     BatchErrorContinuation = 2
	BatchUndo     BatchErrorContinuation = 3
)

// UsageMask is the Cryptographic Usage Mask bit set.
type UsageMask int32

// Usage mask bits.
const (
	UsageSign            UsageMask = 0x0001
	UsageVerify          UsageMask = 0x0002
	UsageEncrypt         UsageMask = 0x0004
	UsageDecrypt         UsageMask = 0x0008
	UsageWrapKey         UsageMask = 0x0010
	UsageUnwrapKey       UsageMask = 0x0020
	UsageExport          UsageMask = 0x0040
	UsageMACGenerate     UsageMask = 0x0080
	UsageMACVerify       UsageMask = 0x0100
	UsageDeriveKey       UsageMask = 0x0200
	UsageKeyAgreement    UsageMask = 0x0800
	UsageCertificateSign UsageMask = 0x1000
	UsageCRLSign         UsageMask = 0x2000
)

func enumString[E ~uint32](names map[E]string, v E, what string) string {
	if s, ok := names[v]; ok {
		return s
	}
	return fmt.Sprintf("%s 0x%08X", what, uint32(v))
}
