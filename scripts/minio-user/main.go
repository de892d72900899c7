// minio-user makes (or removes) a MinIO user whose only permissions are one policy, through MinIO's admin API, so
// tests can run the product with a key holding exactly the permissions a user's bucket would grant it (for the
// offline export: GitLab's documented s3:PutObject and s3:ListBucket). Built once into the tools folder by
// scripts/build-tools.sh; used by test/helpers/dev-bucket.ts. Development only: it needs the server's root key.
//
//	MINIO_ROOT_USER=... MINIO_ROOT_PASSWORD=... MINIO_USER_SECRET=... minio-user set ENDPOINT_URL USER POLICY_FILE
//	MINIO_ROOT_USER=... MINIO_ROOT_PASSWORD=... minio-user remove ENDPOINT_URL USER
//
// Secrets come from the environment, never the command line (which any process on the machine can read). `set` is
// idempotent: it replaces the policy (named after the user) and the user's secret, and attaches only that policy.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/minio/madmin-go/v3"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "minio-user:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 3 || !(args[0] == "set" && len(args) == 4 || args[0] == "remove" && len(args) == 3) {
		fmt.Fprintln(os.Stderr, "usage: minio-user set ENDPOINT_URL USER POLICY_FILE | minio-user remove ENDPOINT_URL USER")
		os.Exit(2)
	}
	endpoint, err := url.Parse(args[1])
	if err != nil || endpoint.Host == "" {
		return fmt.Errorf("not an endpoint URL: %q", args[1])
	}
	admin, err := madmin.New(endpoint.Host, os.Getenv("MINIO_ROOT_USER"), os.Getenv("MINIO_ROOT_PASSWORD"),
		endpoint.Scheme == "https")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	user := args[2]

	if args[0] == "remove" {
		if err := admin.RemoveUser(ctx, user); err != nil && madmin.ToErrorResponse(err).Code != "XMinioAdminNoSuchUser" {
			return fmt.Errorf("remove user %s: %w", user, err)
		}
		if err := admin.RemoveCannedPolicy(ctx, user); err != nil &&
			madmin.ToErrorResponse(err).Code != "XMinioAdminNoSuchPolicy" {
			return fmt.Errorf("remove policy %s: %w", user, err)
		}
		return nil
	}

	secret := os.Getenv("MINIO_USER_SECRET")
	if len(secret) < 8 {
		return fmt.Errorf("MINIO_USER_SECRET must hold the user's secret key (8 characters or more)")
	}
	policy, err := os.ReadFile(args[3])
	if err != nil {
		return err
	}
	if err := admin.AddCannedPolicy(ctx, user, policy); err != nil {
		return fmt.Errorf("add policy %s: %w", user, err)
	}
	if err := admin.AddUser(ctx, user, secret); err != nil {
		return fmt.Errorf("add user %s: %w", user, err)
	}
	//nolint:staticcheck // SetPolicy replaces the user's policies with this one, which is what makes `set` idempotent.
	if err := admin.SetPolicy(ctx, user, user, false); err != nil {
		return fmt.Errorf("attach policy %s: %w", user, err)
	}
	return nil
}
