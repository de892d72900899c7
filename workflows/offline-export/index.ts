// Workflows of the offline transfer export (registered through workflows/index.ts).
export {};
