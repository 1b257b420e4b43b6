/** The gateway tests' user: not a secret, it exists only in the test runtime (vitest.config.ts). */
export const TEST_USER = "alice";
export const TEST_PASSWORD = "correct horse:battery staple";
