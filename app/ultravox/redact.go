package ultravox

import (
	"net/url"
	"slices"
	"strings"
)

// scrubURL removes the join URL (in every form the websocket library may
// print it) from an error text.
func scrubURL(msg string, urls ...string) string {
	for _, u := range urls {
		if u == "" {
			continue
		}
		red := RedactURL(u)
		variants := []string{u}
		if strings.HasPrefix(u, "wss://") {
			variants = append(variants, "https://"+strings.TrimPrefix(u, "wss://"))
		} else if strings.HasPrefix(u, "ws://") {
			variants = append(variants, "http://"+strings.TrimPrefix(u, "ws://"))
		}
		for _, v := range variants {
			msg = strings.ReplaceAll(msg, v, red)
			if q, err := url.QueryUnescape(v); err == nil && q != v {
				msg = strings.ReplaceAll(msg, q, red)
			}
		}
	}
	return msg
}

// RedactURL shows a URL without its secrets, for logs: the scheme, the host,
// path segments longer than 8 characters cut to 4 and "…", and query values
// replaced by "…" (apiVersion and clientVersion kept). A user name or
// password is dropped.
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	for _, seg := range strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/") {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		if len(seg) > 8 {
			b.WriteString(seg[:4])
			b.WriteString("…")
		} else {
			b.WriteString(seg)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			if k == "apiVersion" || k == "clientVersion" {
				b.WriteString(url.QueryEscape(q.Get(k)))
			} else {
				b.WriteString("…")
			}
		}
	}
	return b.String()
}
