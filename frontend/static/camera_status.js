// Camera status page: refresh the figures and the thumbnail every 5 s.
(function () {
  const box = document.getElementById("camera-status");
  async function refresh() {
    try {
      const s = await (await fetch(box.dataset.url, { credentials: "same-origin" })).json();
      document.getElementById("st-state").textContent = s.state;
      document.getElementById("st-last").textContent = s.last_frame_at_display || "never";
      document.getElementById("st-fps").textContent = s.fps;
      document.getElementById("st-frames").textContent = `${s.frames_5min} (${s.failed_5min} failed, ${s.waiting} waiting)`;
      document.getElementById("st-error").textContent = s.last_error || "none";
      if (s.thumbnail_url) document.getElementById("camera-thumb").src = s.thumbnail_url;
    } catch (e) { /* keep the last values */ }
  }
  setInterval(refresh, 5000);
})();
