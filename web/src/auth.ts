import { useSyncExternalStore } from 'react';
import { forgetToken, storedToken, storeToken } from './session';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The signed-in API key, or null; components re-render on sign-in and sign-out. */
export function useToken(): string | null {
  return useSyncExternalStore(subscribe, storedToken);
}

export function signIn(token: string): void {
  storeToken(token);
  notify();
}

/** Forgets the key: nothing of it stays in the browser. */
export function signOut(): void {
  forgetToken();
  notify();
}
