// Workflows of the security-inventory bulk update (registered through workflows/index.ts).
export {};
