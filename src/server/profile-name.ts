const PROFILE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A profile name as it may appear in a URL path and as a token file's name: the same rule serves
 * both, so a name the endpoint accepts can never step out of the token folder (`.` and `..`).
 */
export function isProfileName(name: string): boolean {
  return PROFILE_NAME.test(name) && name !== "." && name !== "..";
}
