// Type declarations of authgate-client.js (@authgate/client), written by hand beside it;
// test/declarations.test.js checks that both name the same exports and methods.

/** An RFC 9457 problem document as authgate answers it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** The stable error code, e.g. "invalid_credentials", "invalid_refresh_token". */
  code?: string;
  errors?: unknown[];
  [field: string]: unknown;
}

/** A user as authgate describes one (`GET /auth/me`). */
export interface User {
  id: number;
  email: string;
  name: string | null;
  role: string;
  email_verified: boolean;
  [field: string]: unknown;
}

/** One of the user's live sessions (`GET /auth/sessions`). */
export interface Session {
  id: string;
  current: boolean;
  ip_address: string | null;
  user_agent: string | null;
  created_at: string;
  last_used_at: string;
  [field: string]: unknown;
}

/** One entry of the user's security activity (`GET /auth/activity`). */
export interface ActivityEntry {
  type: string;
  at: string;
  ip_address: string | null;
  user_agent: string | null;
  /** Approximate, read from the user agent: "Chrome on Linux". */
  device: string | null;
  /** How a sign-in proved the user (its `amr`), where it applies. */
  method: string[] | null;
  reason: string | null;
  by_admin: boolean;
  session_id: string | null;
  [field: string]: unknown;
}

export interface ActivityPage {
  activity: ActivityEntry[];
  /** The `cursor` of the next, older page; `null` on the last one. */
  nextCursor: string | null;
}

/** Everything kept about the account (`GET /auth/account/export`): no secret in it. */
export interface AccountExport {
  exported_at: string;
  profile: User;
  identities: { provider: string; subject: string; email: string | null; created_at: string }[];
  sessions: Record<string, unknown>[];
  passkeys: { name: string | null; transports: string[]; created_at: string; last_used_at: string | null }[];
  activity: ActivityEntry[];
  mails: { subject: string; queued_at: string; sent_at: string | null }[];
  [field: string]: unknown;
}

export interface Passkey {
  id: string;
  name: string | null;
  created_at: string;
  last_used_at: string | null;
  transports: string[];
}

export interface SecondFactors {
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: number;
  /** False for an account that signs in without one (passkey-first, or a provider). */
  password: boolean;
}

export interface AuthClientOptions {
  /** Where authgate answers; by default the origin the module was loaded from. */
  baseUrl?: string;
  /** Other origins `fetch` may send the access token to (your APIs). */
  apiOrigins?: string[];
  /** Refresh this long before the token expires (at most a quarter of its lifetime). */
  refreshAheadSeconds?: number;
  /** Called with the reason of every `signedout` event. */
  onSignOut?: (reason: string) => void;
  /** Asked when a sensitive action needs a fresh proof (step-up, RFC 9470): resolve with
   * what the user gave, or null to give up (the call then resolves with the 401). */
  onStepUp?: (challenge: StepUpRequired) => Promise<Proof | null>;
  /** The fetch to use (by default the global one). */
  fetch?: typeof globalThis.fetch;
}

/** A problem answered by authgate: `status`, its stable `code`, `detail` as the message. */
export class AuthError extends Error {
  constructor(status: number, problem?: Problem | null);
  readonly status: number;
  readonly code: string | null;
  readonly errors: unknown[];
  readonly problem: Problem | null;
}

/** `login`'s answer for an account with a second factor; complete it with `loginMfa`. */
export class MfaRequired extends AuthError {
  readonly mfaToken: string;
  /** "totp", "recovery_code", and "passkey" when the account has one. */
  readonly methods: string[];
}

/** A 401 `insufficient_user_authentication`: a proof at most `maxAge` seconds old is
 * needed, and two factors when `acrValues` is "aal2". */
export class StepUpRequired extends AuthError {
  readonly maxAge: number | null;
  readonly acrValues: string | null;
}

/** What proves the user again: the password (with the app's code or a recovery code on an
 * account with an app), or a passkey of this account (the browser asks for it). */
export type Proof =
  | { password: string; code?: string; recoveryCode?: string }
  | { passkey: true };

/** The session's proof after `reauthenticate` (OpenID Connect Core §2 claims). */
export interface Assurance {
  authTime: number;
  amr: string[];
  acr: "aal1" | "aal2";
}

export interface SignedInDetail {
  user?: User;
}

export interface SignedOutDetail {
  /** "logout", "revoked", "password_reset", "account_secured", or the refresh's problem code. */
  reason: string;
}

export interface AuthClientEventMap {
  signedin: CustomEvent<SignedInDetail>;
  refreshed: CustomEvent<SignedInDetail>;
  signedout: CustomEvent<SignedOutDetail>;
}

export class AuthClient extends EventTarget {
  constructor(options?: AuthClientOptions);

  /** Whether an access token is held. */
  readonly signedIn: boolean;
  /** WebAuthn Level 3's JSON methods in a secure context. */
  static readonly passkeysSupported: boolean;

  addEventListener<K extends keyof AuthClientEventMap>(
    type: K,
    listener: (event: AuthClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;

  // the session
  /** An access token from the refresh cookie; true when signed in. */
  restore(): Promise<boolean>;
  /** Rotate the refresh cookie; concurrent callers share one request. */
  refresh(): Promise<boolean>;
  register(fields: {
    email: string;
    password: string;
    name?: string;
    turnstileToken?: string;
  }): Promise<{ user: User; emailVerificationRequired: boolean }>;
  /** An account whose one credential is a new passkey of this device (no password). */
  signUpWithPasskey(fields: {
    email: string;
    name?: string;
    turnstileToken?: string;
  }): Promise<{ user: User; emailVerificationRequired: boolean }>;
  /** Throws `MfaRequired` when the account has a second factor. */
  login(email: string, password: string): Promise<User>;
  loginMfa(
    mfaToken: string | undefined,
    proof: { code?: string; recoveryCode?: string },
  ): Promise<User>;
  signInWithPasskey(): Promise<User>;
  /** Mails a code and a link; resolves the same way for any address. */
  requestEmailSignIn(email: string, options?: { turnstileToken?: string }): Promise<void>;
  /** In the browser that asked; throws `MfaRequired` when the account has a second factor. */
  signInWithEmailCode(email: string, code: string): Promise<User>;
  /** The mailed link's token, on any device. */
  signInWithEmailLink(token: string): Promise<User>;
  /** Leaves the page for the provider's sign-in. */
  /** `maxAge`: seconds; the provider signs the user in again if their last sign-in there is
   * older (a step-up for an account with neither a password nor a passkey). */
  signInWith(provider: string, options?: { returnTo?: string; maxAge?: number }): void;
  logout(): Promise<void>;
  logoutEverywhere(options?: { keepCurrent?: boolean }): Promise<void>;

  // the account
  me(): Promise<User>;
  sessions(): Promise<Session[]>;
  revokeSession(id: string): Promise<void>;
  activity(options?: { limit?: number; cursor?: string | null }): Promise<ActivityPage>;
  exportAccount(): Promise<AccountExport>;
  /** Deletes the account (step-up applies); `signedout` fires with reason `account_deleted`. */
  deleteAccount(): Promise<void>;
  requestVerificationEmail(): Promise<void>;
  verifyEmail(token: string): Promise<User>;
  /** Mails a link to the new address (step-up applies); nothing changes until it is opened. */
  requestEmailChange(email: string): Promise<void>;
  /** The token mailed to the new address; the user with its new address, verified. */
  changeEmail(token: string): Promise<User>;
  forgotPassword(email: string, options?: { turnstileToken?: string }): Promise<void>;
  resetPassword(token: string, newPassword: string): Promise<void>;
  /** "This wasn't me": every session ends, the password is blocked until a reset. */
  secureAccount(token: string): Promise<void>;
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  /** A first password for an account without one (step-up applies). */
  setPassword(newPassword: string): Promise<void>;

  // second factors
  secondFactors(): Promise<SecondFactors>;
  totpSetup(): Promise<{ secret: string; otpauthUri: string }>;
  totpConfirm(code: string): Promise<string[]>;
  regenerateRecoveryCodes(code: string): Promise<string[]>;
  totpDisable(proof: { password?: string; code?: string }): Promise<void>;
  addPasskey(name?: string): Promise<Passkey>;
  passkeys(): Promise<Passkey[]>;
  removePasskey(id: string): Promise<void>;

  // proving it again (step-up)
  reauthenticate(proof: Proof): Promise<Assurance>;

  // calling APIs
  /** `fetch` with the access token, refreshed ahead of expiry and once on a 401. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}
