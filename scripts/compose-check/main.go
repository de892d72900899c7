// compose-check validates a compose file the way `docker compose config` does (the Compose Specification's
// reference loader: schema, interpolation, consistency such as depends_on targets), with no Docker engine.
// Built once into the tools folder by scripts/build-tools.sh; used by test/stack/compose.test.ts.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	files := os.Args[1:]
	asJSON := len(files) > 0 && files[0] == "--json"
	if asJSON {
		files = files[1:]
	}
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [--json] COMPOSE_FILE...")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(files,
		cli.WithOsEnv,
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if asJSON {
		out, err := project.MarshalJSON()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(string(out))
		return
	}
	fmt.Printf("%s: valid, %d services\n", project.Name, len(project.Services))
}
