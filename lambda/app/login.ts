/**
 * What a session starts with at login. Data crosses a login only from an anonymous session (no
 * user) or from the same user's: bob logging in on a browser that still holds alice's session
 * must not receive her cart and prefs. The caller ends the old session either way, so its id dies.
 */
import type { SessionData } from '../session/types';

/** `user` with the old session's data when that session is anonymous or `user`'s own, else `user` alone. */
export function dataAtLogin(old: SessionData | undefined, user: string): SessionData {
  const owner = old?.user;
  const carries = old !== undefined && (owner === undefined || owner === null || owner === user);
  return carries ? { ...old, user } : { user };
}
