package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gnnlab/gognn/server"
)

// Serve an index over HTTP: add three vectors, then search the one nearest to a query.
func Example() {
	sv, err := server.New(server.Config{Dim: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sv.Close()
	ts := httptest.NewServer(sv.Handler())
	defer ts.Close()

	add := `{"vectors":[{"id":"a","vector":[1,0,0]},{"id":"b","vector":[0,1,0]},{"id":"c","vector":[0,0,1]}]}`
	resp, err := http.Post(ts.URL+"/v1/vectors", "application/json", strings.NewReader(add))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("add:", resp.Status)

	resp, err = http.Post(ts.URL+"/v1/search", "application/json", strings.NewReader(`{"vector":[0.1,0.9,0],"k":1}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var r server.SearchResponse
	json.NewDecoder(resp.Body).Decode(&r)
	fmt.Println("search:", resp.Status, "nearest", r.Results[0].ID)
	// Output:
	// add: 200 OK
	// search: 200 OK nearest b
}
