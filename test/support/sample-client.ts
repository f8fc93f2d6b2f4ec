/** Gets a real access token from the sample's token endpoint (client credentials). */
export async function tokenFor(
  baseUrl: string,
  client: string = 'writer',
  scope?: string,
): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client,
    client_secret: `${client}-secret`,
  });
  if (scope) form.set('scope', scope);
  const response = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    body: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  if (response.status !== 200)
    throw new Error(
      `token endpoint answered ${response.status}: ${await response.text()}`,
    );
  return ((await response.json()) as { access_token: string }).access_token;
}

/** fetch with a bearer token. */
export function authorized(baseUrl: string, token: string) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    });
}
