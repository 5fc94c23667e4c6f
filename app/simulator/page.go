package simulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

type pageParams struct {
	size    int
	hasCur  bool
	reverse bool   // the cursor points backwards (a previous link)
	pos     string // the boundary position
}

type cursorData struct {
	P string `json:"p"`
	R bool   `json:"r,omitempty"`
}

func parsePage(q url.Values) (pageParams, *apiError) {
	pp := pageParams{size: defaultPageSize}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pp, &apiError{status: 400, body: fieldErrors{"pageSize": {fmt.Sprintf("A valid positive integer is required, got %q.", v)}}}
		}
		pp.size = min(n, maxPageSize)
	}
	if v := q.Get("cursor"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		var cd cursorData
		if err == nil {
			err = json.Unmarshal(raw, &cd)
		}
		if err != nil || cd.P == "" {
			return pp, errDetail(http.StatusNotFound, "Invalid cursor")
		}
		pp.hasCur, pp.reverse, pp.pos = true, cd.R, cd.P
	}
	return pp, nil
}

func encodeCursor(pos string, reverse bool) string {
	b, _ := json.Marshal(cursorData{P: pos, R: reverse})
	return base64.RawURLEncoding.EncodeToString(b)
}

// timeKey is a string that sorts as t does.
func timeKey(t time.Time) string { return fmt.Sprintf("%020d|", t.UnixNano()) }

// paginate answers one page of items ordered by key (descending when desc),
// with full-URL next/previous links that keep the request's other
// parameters.
func paginate[T any](r *http.Request, items []T, key func(T) string, desc bool, pp pageParams) reply {
	keys := make([]string, len(items))
	idx := make([]int, len(items))
	for i, it := range items {
		keys[i] = key(it)
		idx[i] = i
	}
	before := func(a, b string) bool { // a comes before b in the listing
		if desc {
			return a > b
		}
		return a < b
	}
	sort.SliceStable(idx, func(i, j int) bool { return before(keys[idx[i]], keys[idx[j]]) })
	ordered := make([]int, 0, len(idx))
	ordered = append(ordered, idx...)

	start, end := 0, 0
	switch {
	case !pp.hasCur:
		start = 0
		end = min(len(ordered), pp.size)
	case !pp.reverse:
		start = len(ordered)
		for i, k := range ordered {
			if before(pp.pos, keys[k]) {
				start = i
				break
			}
		}
		end = min(len(ordered), start+pp.size)
	default:
		end = 0
		for i, k := range ordered {
			if before(keys[k], pp.pos) {
				end = i + 1
			}
		}
		start = max(0, end-pp.size)
	}
	page := Page[T]{Results: make([]T, 0, end-start), Total: len(items)}
	for _, k := range ordered[start:end] {
		page.Results = append(page.Results, items[k])
	}
	if end < len(ordered) && end > 0 {
		u := pageURL(r, encodeCursor(keys[ordered[end-1]], false))
		page.Next = &u
	}
	if start > 0 && start < len(ordered) {
		u := pageURL(r, encodeCursor(keys[ordered[start]], true))
		page.Previous = &u
	}
	return ok(http.StatusOK, page)
}

func pageURL(r *http.Request, cursor string) string {
	q := r.URL.Query()
	q.Set("cursor", cursor)
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
