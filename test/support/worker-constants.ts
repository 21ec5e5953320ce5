/** Secrets the Worker tests run with (test-only values, never used outside tests). */
export const TEST_API_TOKEN = "test-api-token-0123456789abcdef";
/** "id:base64secret" — 32 bytes of 0x01. */
export const TEST_RUNNER_KEYS = "test:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
