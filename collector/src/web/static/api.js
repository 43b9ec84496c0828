// Reads the collector's JSON API with the bearer token the person gave this tab (kept in
// sessionStorage, never in a cookie: a page on another site cannot make the browser send it).
import { useEffect, useRef, useState } from 'preact/hooks';

const TOKEN_KEY = 'mcpscope.apiToken';

export class AuthRequired extends Error {}

export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const apiToken = () => sessionStorage.getItem(TOKEN_KEY);

export const setApiToken = (token) => {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
};

export async function callApi(path, { method = 'GET', body } = {}) {
  const token = apiToken();
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (response.status === 401) throw new AuthRequired('the API asks for a bearer token');
  const json = await response.json().catch(() => null);
  if (!response.ok) throw new ApiFailure(response.status, json?.message ?? response.statusText);
  return { body: json, headers: response.headers };
}

/**
 * Loads `buildPath()` and, with `refreshMs`, again every `refreshMs` while the page is open. `key`
 * names what is loaded: a new key starts over. The path is built at each load so that a relative
 * time range ("last hour") moves with the clock.
 */
export function useApi(key, buildPath, { refreshMs } = {}) {
  const [state, setState] = useState({ loading: true });
  const build = useRef(buildPath);
  build.current = buildPath;
  useEffect(() => {
    let stopped = false;
    let timer;
    setState({ loading: true });
    const load = async () => {
      try {
        const { body, headers } = await callApi(build.current());
        if (!stopped) setState({ data: body, headers, updatedAt: new Date() });
      } catch (error) {
        if (!stopped) setState((previous) => ({ ...previous, loading: false, error }));
      }
      if (!stopped && refreshMs) timer = setTimeout(load, refreshMs);
    };
    load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key, refreshMs]);
  return state;
}
