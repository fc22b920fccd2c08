package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// AzureOptions configures the azure-keyvault:// provider.
type AzureOptions struct {
	// Credential authenticates to Key Vault. Default: azidentity's
	// DefaultAzureCredential (environment, workload identity, managed
	// identity, Azure CLI), created on first use.
	Credential azcore.TokenCredential
	// VaultURL maps a vault name to its URL. Default:
	// https://<vault>.vault.azure.net/ (override for sovereign clouds).
	VaultURL func(vault string) string
	// ClientOptions are passed to azsecrets.NewClient (transport, retries,
	// cloud). Nil means the SDK's defaults.
	ClientOptions *azsecrets.ClientOptions
}

// DefaultAzureVaultURL is the public-cloud Key Vault URL for a vault name.
func DefaultAzureVaultURL(vault string) string { return "https://" + vault + ".vault.azure.net/" }

// azureClient returns the cached client for a vault, creating the
// credential and client on first use.
func (r *Resolver) azureClient(vault string) (*azsecrets.Client, error) {
	r.azMu.Lock()
	defer r.azMu.Unlock()
	if c, ok := r.azClients[vault]; ok {
		return c, nil
	}
	if r.azCred == nil {
		cred := r.opts.Azure.Credential
		if cred == nil {
			dc, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, wrapf(ErrDenied, err, "no Azure credential")
			}
			cred = dc
		}
		r.azCred = cred
	}
	vaultURL := DefaultAzureVaultURL(vault)
	if r.opts.Azure.VaultURL != nil {
		vaultURL = r.opts.Azure.VaultURL(vault)
	}
	c, err := azsecrets.NewClient(vaultURL, r.azCred, r.opts.Azure.ClientOptions)
	if err != nil {
		return nil, wrapf(ErrInvalidRef, err, "Key Vault client for %s", vaultURL)
	}
	r.azClients[vault] = c
	return c, nil
}

func (r *Resolver) fetchAzure(ctx context.Context, ref Ref) (fetched, error) {
	c, err := r.azureClient(ref.Vault)
	if err != nil {
		return fetched{}, err
	}
	resp, err := c.GetSecret(ctx, ref.Name, ref.Version, nil)
	if err != nil {
		return fetched{}, azureError(err)
	}
	if resp.Value == nil {
		return fetched{}, errorf(ErrNotFound, "Key Vault returned the secret without a value")
	}
	return fetched{value: *resp.Value}, nil
}

// azureError maps SDK errors to error kinds. A ResponseError's text embeds
// the whole HTTP exchange, so only its status and error code are kept.
func azureError(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("Key Vault answered %d %s", re.StatusCode, http.StatusText(re.StatusCode))
		if re.ErrorCode != "" {
			msg += " (" + re.ErrorCode + ")"
		}
		switch {
		case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
			return errorf(ErrDenied, "%s; check the identity's access to the vault's secrets (get permission)", msg)
		case re.StatusCode == http.StatusNotFound:
			return errorf(ErrNotFound, "%s", msg)
		case re.StatusCode == http.StatusTooManyRequests || re.StatusCode >= 500:
			return errorf(ErrUnavailable, "%s", msg)
		default:
			return errorf(ErrInvalidRef, "%s", msg)
		}
	}
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) {
		if af.RawResponse != nil && af.RawResponse.StatusCode < 500 {
			return errorf(ErrDenied, "Azure authentication failed (%d from the identity endpoint); check the credential", af.RawResponse.StatusCode)
		}
		return errorf(ErrUnavailable, "Azure authentication failed; the identity endpoint did not answer")
	}
	// Network errors, timeouts and an unavailable credential (IMDS not
	// reachable) are transient as far as the resolver can tell.
	return wrapf(ErrUnavailable, err, "Key Vault request failed")
}
