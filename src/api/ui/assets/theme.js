// Runs before the first paint, so a chosen theme never flashes the other one.
(function () {
  const saved = localStorage.getItem('mz-theme');
  if (saved === 'light' || saved === 'dark') document.documentElement.dataset.theme = saved;
})();
