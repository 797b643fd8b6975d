/**
 * Polls a probe until it returns a truthy value, failing with the last error at the deadline. Tests wait
 * on conditions with this, never on fixed sleeps. It lives in faultkit.js, which the chaos script shares.
 */
export { waitFor } from './faultkit';
