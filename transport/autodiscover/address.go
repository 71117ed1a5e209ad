package autodiscover

import (
	"fmt"
	"strings"
	"unicode"
)

// maxAddress is the longest address accepted: RFC 5321 4.5.3.1.3 limits a
// forward path to 256 octets, angle brackets included.
const maxAddress = 254

// checkAddress reports why email cannot be an Autodiscover address, or "".
// It needs exactly one '@', a local part and a domain; the domain becomes a host
// name in URLs, so it must not hold '/', ':', spaces or any other character that
// would change the URL, nor empty labels.
func checkAddress(email string) string {
	switch {
	case email == "":
		return "is empty"
	case len(email) > maxAddress:
		return fmt.Sprintf("is longer than %d bytes", maxAddress)
	case strings.Count(email, "@") != 1:
		return "must hold exactly one '@'"
	}
	local, domain, _ := strings.Cut(email, "@")
	switch {
	case local == "":
		return "has nothing before the '@'"
	case domain == "":
		return "has no domain after the '@'"
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return fmt.Sprintf("has an empty label in the domain %q", domain)
	}
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "has a space or control character before the '@'"
		}
	}
	for _, r := range domain {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar:
			return "has a space or control character in the domain"
		case strings.ContainsRune(`/:\?#[]%<>"`, r):
			return fmt.Sprintf("has %q in the domain, which cannot be part of a host name", r)
		}
	}
	return ""
}

// domainOf returns the domain of a checked address, lower-cased.
func domainOf(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return strings.ToLower(d)
}
