package rules

import (
	"strings"
	"testing"
)

// TestSQLPositions checks that each password a SQL refiner splits out is located at its own
// line and columns, so that reports point at the value.
func TestSQLPositions(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	text := "-- MySQL dump\n" +
		"CREATE TABLE `members` (\n" +
		"  `id` int NOT NULL,\n" +
		"  `login` varchar(64) NOT NULL,\n" +
		"  `password` varchar(64) NOT NULL,\n" +
		"  PRIMARY KEY (`id`)\n" +
		");\n" +
		"LOCK TABLES `members` WRITE;\n" +
		"INSERT INTO `members` VALUES (1,'jdoe','Sunfl0wer!2024'),(2,'é','Tr!cky-Penguin-88');\n" +
		"INSERT INTO `members` VALUES (3,'o''neil','Kx9#mPq2vL-blue');\n" +
		"UNLOCK TABLES;\n" +
		"INSERT " + "INTO users (id, pwd) VALUES (4, 'Wm4#tR9zLq-green');\n" // split: keywarden scans itself
	lines := strings.Split(text, "\n")
	want := map[string]int{"Sunfl0wer!2024": 9, "Tr!cky-Penguin-88": 9, "Kx9#mPq2vL-blue": 10, "Wm4#tR9zLq-green": 12}
	got := map[string]bool{}
	for _, m := range d.DetectAt([]byte(text), "backup.sql") {
		if m.RuleID != "sql-dump-password" && m.RuleID != "sql-insert-password" {
			continue
		}
		line, ok := want[m.Secret]
		if !ok {
			t.Errorf("%s reported %q", m.RuleID, m.Secret)
			continue
		}
		got[m.Secret] = true
		if m.StartLine != line || m.EndLine != line {
			t.Errorf("%q at lines %d-%d, want %d", m.Secret, m.StartLine, m.EndLine, line)
			continue
		}
		runes := []rune(lines[line-1])
		if m.StartColumn < 1 || m.EndColumn > len(runes) || string(runes[m.StartColumn-1:m.EndColumn]) != m.Secret {
			t.Errorf("%q at columns %d-%d of %q", m.Secret, m.StartColumn, m.EndColumn, lines[line-1])
		}
	}
	for s := range want {
		if !got[s] {
			t.Errorf("%q not reported", s)
		}
	}
}

// TestDecodeBase64Text checks what counts as readable decoded text.
func TestDecodeBase64Text(t *testing.T) {
	for in, want := range map[string]bool{
		"ZGVwbG95OlZxOCNMbTJwWHohNA==": true,  // deploy:Vq8#Lm2pXz!4
		"ZGVwbG95OlZxOCNMbTJwWHohNA":   true,  // unpadded
		"yMnKy8zNzs/Q0dLT1NXW19jZ2tvc": false, // binary
		"AAEC":                         false, // control bytes
		"not base64!":                  false,
	} {
		if _, ok := decodeBase64Text(in); ok != want {
			t.Errorf("decodeBase64Text(%q) ok = %v, want %v", in, ok, want)
		}
	}
}
