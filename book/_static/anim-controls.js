// Pause and play buttons for the book's animations (figure.lstm-anim, made by lstm_figures.animation),
// so that no one has to watch a loop that never stops (WCAG 2.2.2, Pause, Stop, Hide).
// Pausing shows the still frame the figure already carries for readers who ask for reduced motion;
// playing puts the GIF back (it starts again from its first frame). Readers who ask for reduced motion
// see the still frame already, so they get no button.
(function () {
  "use strict";

  function addToggle(fig) {
    const img = fig.querySelector("picture > img");
    const still = fig.querySelector('picture > source[media="(prefers-reduced-motion: reduce)"]');
    if (!img || !still || fig.querySelector("button.lstm-anim-toggle")) return;
    const gif = img.getAttribute("src");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "lstm-anim-toggle";
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Pause animation";
    button.addEventListener("click", function () {
      const pause = button.getAttribute("aria-pressed") !== "true";
      img.src = pause ? still.getAttribute("srcset") : gif;
      button.setAttribute("aria-pressed", String(pause));
      button.textContent = pause ? "Play animation" : "Pause animation";
    });
    fig.insertBefore(button, fig.querySelector("figcaption"));
  }

  function setup() {
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
    document.querySelectorAll("figure.lstm-anim").forEach(addToggle);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
