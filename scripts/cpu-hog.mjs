// One busy core: spins until killed, or until the process that started it is gone.
// Usage: node scripts/cpu-hog.mjs <parent pid>   (started by scripts/stress.mjs, one per core)
const parent = Number(process.argv[2]);
for (let i = 0; ; i++) {
  // Checked now and then, so an orphaned hog (its parent killed) does not spin for ever.
  if ((i & 0xfffff) === 0 && parent && process.ppid !== parent) process.exit(0);
}
