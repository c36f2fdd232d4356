package rules

import (
	"encoding/base64"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// refiners check or split the matches of keywarden rules whose format a regex cannot check:
// a base64 value that must decode to user:password, a SQL INSERT whose password column is
// known only from its column list. A refiner returns the matches to keep (none to drop m).
// They run in Detect, after the content allowlists, keyed by rule ID, so a user's config
// that redefines one of these rules keeps its refiner.
var refiners = map[string]func(m Match) []Match{
	"docker-config-auth":               refineUserPass,
	"authorization-basic":              refineUserPass,
	"authorization-token":              refineStrong,
	"token-key-value-pair":             refineStrong,
	"npmrc-auth":                       refineNpmAuth,
	"filezilla-password":               refineFileZilla,
	"kubernetes-secret-password":       refineBase64Text,
	"kubernetes-secret-data":           refineBase64Text,
	"kubernetes-secret-key":            refineBase64Text,
	"sql-insert-password":              refineSQLInsert,
	"sql-dump-password":                refineSQLDump,
	"token-assignment":                 refineStrong,
	"password-assignment":              refineNotPlaceholderWord,
	"password-in-config":               refineNotPlaceholderWord,
	"password-xml-element":             refineNotPlaceholderWord,
	"password-cli-flag":                refineNotPlaceholderWord,
	"password-in-call":                 refineNotPlaceholderWord,
	"password-cli-login":               refineNotPlaceholderWord,
	"password-in-form-data":            refineNotPlaceholderWord,
	"password-key-value-pair":          refineNotPlaceholderWord,
	"connection-string-url":            refineNotPlaceholderWord,
	"connection-string-password":       refineNotPlaceholderWord,
	"connection-string-password-param": refineNotPlaceholderWord,
	"secret-assignment":                refineStrong,
}

// placeholderWords are values that stand for a password rather than being one: the name of
// the field ("password", "token"), a type ("string"), a setting ("true", "prompt", "file"),
// or a default account word ("admin", "root", "changeit"). A case-insensitive regex of them
// took longer to compile than all of gitleaks' allowlists, at every start.
var placeholderWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		pass password passwd passphrase pwd pw p secret token key apikey api_key user username
		login required optional empty none null nil undefined string str text value hidden
		masked redacted removed omitted encrypted sensitive confidential admin root guest
		default invalid wrong incorrect new old current confirm high medium low strong weak
		critical true false yes no on off enable enabled disable disabled prompt ask file env
		keyring keychain agent changeit changeme stdin mypassword yourpassword your-password
		your_password pa55word`) {
		placeholderWords[w] = true
	}
}

// refineNotPlaceholderWord drops a value that is a placeholder word, or only x's or *'s.
func refineNotPlaceholderWord(m Match) []Match {
	v := strings.ToLower(m.Secret)
	return keep(m, !placeholderWords[v] && strings.Trim(v, "x") != "" && strings.Trim(v, "*") != "")
}

// refineStrong keeps what grades strong: the fallback token and secret rules match any
// assignment to a name like "token", so a value must look random to count (the strength gate
// of #5; placeholders are dropped later anyway, weak values here are mostly identifiers).
func refineStrong(m Match) []Match {
	return keep(m, GradeSecret(m.RuleID, m.Secret).Grade == gradeStrong)
}

// decodeBase64Text decodes s (standard alphabet, padded or not) and returns the text if it is
// readable: valid UTF-8 without control characters other than whitespace.
func decodeBase64Text(s string) (string, bool) {
	b, err := base64.RawStdEncoding.DecodeString(unpadBase64(s))
	if err != nil || len(b) == 0 || !utf8.Valid(b) {
		return "", false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return "", false
		}
	}
	return string(b), true
}

func keep(m Match, ok bool) []Match {
	if !ok {
		return nil
	}
	return []Match{m}
}

// refineUserPass keeps a base64 value that decodes to user:password with both parts present.
func refineUserPass(m Match) []Match {
	t, ok := decodeBase64Text(m.Secret)
	if !ok {
		return nil
	}
	user, pass, found := strings.Cut(t, ":")
	return keep(m, found && user != "" && pass != "" && !templateLike(pass))
}

// refineNpmAuth applies refineUserPass to _auth, and wants readable text from _password.
func refineNpmAuth(m Match) []Match {
	if strings.Contains(strings.ToLower(m.Match), "_auth") {
		return refineUserPass(m)
	}
	return refineBase64Text(m)
}

// refineBase64Text keeps a value that decodes to readable text that is not a template.
func refineBase64Text(m Match) []Match {
	t, ok := decodeBase64Text(m.Secret)
	return keep(m, ok && strings.TrimSpace(t) != "" && !templateLike(t))
}

// refineFileZilla checks the base64 of an encoding="base64" password.
func refineFileZilla(m Match) []Match {
	if strings.Contains(m.Match, `encoding="base64"`) {
		return refineBase64Text(m)
	}
	return []Match{m}
}

// templateLike reports a value that a tool fills in later: ${VAR}, {{ var }}, <value>.
func templateLike(v string) bool {
	return templateReason(strings.TrimSpace(v)) != ""
}

// SQL dumps. The regex of sql-insert-password matches an INSERT into a table whose name says
// it holds accounts, with its column list; the refiner finds the password column and reports
// each row's value there that is plaintext (hashes have rules of their own). It reads at most
// maxSQLRows rows of one statement, to keep multi-megabyte extended INSERTs fast.
const maxSQLRows = 10000

// The SQL refiners' regexes compile on first use: most scans never meet a SQL dump, and a
// pre-commit scan must not pay for them at start-up.
var (
	sqlInsertRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\(([^)\r\n]+)\)[ \t]*VALUES[ \t]*`)
	})
	// sqlPasswordColumn names a column that holds the password itself, not a setting about it.
	sqlPasswordColumn = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)^(?:\w*_)?(?:pass|passwd|password|pwd|pw|passwort|user_pass|userpassword|pass_word|clear_?password|plain_?password)$`)
	})
	// sqlHashPrefix starts a value another rule reports (crypt and framework hashes).
	sqlHashPrefix = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:\$[\w]+\$|\{S?SHA\w*\}|pbkdf2_|bcrypt|argon2|scrypt\$|sha1\$|md5\$)`)
	})
)

// sqlHashLike reports a value that is a hash, not a plaintext password: one the hash rules
// report, or a bare hex digest (MD5, SHA-1, SHA-256, SHA-512).
func sqlHashLike(v string) bool {
	if sqlHashPrefix().MatchString(v) {
		return true
	}
	switch len(v) {
	case 32, 40, 64, 128:
		for i := 0; i < len(v); i++ {
			if !isHex(v[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// refineSQLInsert splits an INSERT match into one match per plaintext password value.
func refineSQLInsert(m Match) []Match {
	loc := sqlInsertRe().FindStringSubmatchIndex(m.Match)
	if loc == nil {
		return nil
	}
	col := passwordColumn(strings.Split(m.Match[loc[2]:loc[3]], ","))
	if col < 0 {
		return nil
	}
	return sqlValues(m, loc[1], col, nil)
}

var (
	sqlCreateRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)CREATE[ \t]+TABLE[ \t]+(?:IF[ \t]+NOT[ \t]+EXISTS[ \t]+)?([^\s(]+)[ \t]*\(`)
	})
	sqlColumnRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[ \t]*[\x60"\[]?(\w+)[\x60"\]]?[ \t]+\w`)
	})
	sqlNotCol = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)^[ \t]*(?:PRIMARY|KEY|UNIQUE|CONSTRAINT|INDEX|FOREIGN|CHECK|FULLTEXT|SPATIAL)\b`)
	})
	sqlValuesRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)^INSERT[ \t]+INTO[ \t]+([^\s(]+)[ \t]*VALUES[ \t]*`)
	})
)

// refineSQLDump reads the column names of a CREATE TABLE and the password column of each
// INSERT INTO that table (without a column list) that follows it.
func refineSQLDump(m Match) []Match {
	c := sqlCreateRe().FindStringSubmatchIndex(m.Match)
	if c == nil {
		return nil
	}
	table := sqlName(m.Match[c[2]:c[3]])
	var cols []string
	lines := strings.Split(m.Match, "\n")
	i := 1
	for ; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), ")"); i++ {
		if sqlNotCol().MatchString(lines[i]) {
			continue
		}
		if cm := sqlColumnRe().FindStringSubmatch(lines[i]); cm != nil {
			cols = append(cols, cm[1])
		}
	}
	col := passwordColumn(cols)
	if col < 0 {
		return nil
	}
	var out []Match
	off := 0
	for n, line := range lines {
		if n > i {
			if v := sqlValuesRe().FindStringSubmatchIndex(line); v != nil && sqlName(line[v[2]:v[3]]) == table {
				out = sqlValues(m, off+v[1], col, out)
			}
		}
		off += len(line) + 1
	}
	return out
}

// sqlName is a table name without quotes or schema.
func sqlName(s string) string {
	s = strings.Trim(s, "`\"[]")
	if i := strings.LastIndexAny(s, "."); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToLower(strings.Trim(s, "`\"[]"))
}

// passwordColumn returns the index of the column holding passwords, or -1.
func passwordColumn(names []string) int {
	for i, name := range names {
		name = strings.Trim(strings.TrimSpace(name), "`\"[]")
		if sqlPasswordColumn().MatchString(name) {
			return i
		}
	}
	return -1
}

// sqlValues appends to out a match for each plaintext value in column col of the tuples that
// start at offset pos of m.Match.
func sqlValues(m Match, pos, col int, out []Match) []Match {
	sc := sqlScanner{s: m.Match, pos: pos}
	for rows := 0; rows < maxSQLRows && sc.tuple(); rows++ {
		for i := 0; ; i++ {
			v, start, quoted, ok := sc.value()
			if !ok {
				break
			}
			if i != col || !quoted || v == "" || sqlHashLike(v) || templateLike(v) {
				continue
			}
			out = append(out, at(m, start, v))
		}
	}
	return out
}

// at is m narrowed to the secret v found at byte offset start of m.Match.
func at(m Match, start int, v string) Match {
	r := m
	r.Secret = v
	r.Entropy = shannonEntropy(v)
	before := m.Match[:start]
	nl := strings.LastIndexByte(before, '\n')
	if nl < 0 {
		r.StartColumn = m.StartColumn + utf8.RuneCountInString(before)
	} else {
		r.StartLine = m.StartLine + strings.Count(before, "\n")
		r.StartColumn = utf8.RuneCountInString(before[nl+1:]) + 1
	}
	end := min(start+len(v), len(m.Match))
	r.EndLine = r.StartLine
	r.EndColumn = r.StartColumn + utf8.RuneCountInString(m.Match[start:end]) - 1
	if eol := strings.IndexByte(m.Match[start:], '\n'); eol >= 0 {
		r.Line = m.Match[start-len(before[nl+1:]) : start+eol]
	} else if nl >= 0 {
		r.Line = m.Match[nl+1:]
	}
	return r
}

// sqlScanner walks the tuples of a VALUES list: (1,'a”b',NULL),(2,…).
type sqlScanner struct {
	s   string
	pos int
}

func (sc *sqlScanner) skipSpace() {
	for sc.pos < len(sc.s) && (sc.s[sc.pos] == ' ' || sc.s[sc.pos] == '\t') {
		sc.pos++
	}
}

// tuple moves to the start of the next tuple's first value.
func (sc *sqlScanner) tuple() bool {
	sc.skipSpace()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == ',' {
		sc.pos++
		sc.skipSpace()
	}
	if sc.pos >= len(sc.s) || sc.s[sc.pos] != '(' {
		return false
	}
	sc.pos++
	return true
}

// value reads one value of the current tuple: its text (unescaped when quoted), the offset
// of its first character in s (for quoted values, the one after the quote; the value is then
// as long as the raw text only when it has no escapes), and ok false at the tuple's end.
func (sc *sqlScanner) value() (v string, start int, quoted, ok bool) {
	sc.skipSpace()
	if sc.pos >= len(sc.s) || sc.s[sc.pos] == ')' {
		sc.pos++
		return "", 0, false, false
	}
	if sc.s[sc.pos] == ',' {
		sc.pos++
		sc.skipSpace()
	}
	if sc.pos >= len(sc.s) {
		return "", 0, false, false
	}
	if q := sc.s[sc.pos]; q == '\'' || q == '"' {
		sc.pos++
		start = sc.pos
		var b strings.Builder
		for sc.pos < len(sc.s) {
			c := sc.s[sc.pos]
			switch {
			case c == '\\' && sc.pos+1 < len(sc.s):
				b.WriteByte(sc.s[sc.pos+1])
				sc.pos += 2
				continue
			case c == q && sc.pos+1 < len(sc.s) && sc.s[sc.pos+1] == q:
				b.WriteByte(q)
				sc.pos += 2
				continue
			case c == q:
				sc.pos++
				return b.String(), start, true, true
			}
			b.WriteByte(c)
			sc.pos++
		}
		return "", 0, false, false // unterminated: the line was cut
	}
	start = sc.pos
	for sc.pos < len(sc.s) && sc.s[sc.pos] != ',' && sc.s[sc.pos] != ')' {
		sc.pos++
	}
	return strings.TrimSpace(sc.s[start:sc.pos]), start, false, true
}
