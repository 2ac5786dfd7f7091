/* Operations pages: keep the cursor in the scan field for the next scan, and switch off the gate-in details
   when the scan is not a gate-in. Every page works without this file; it only saves taps at the gate. */
(function () {
  "use strict";
  var form = document.querySelector("[data-scan-form]");
  if (!form) {
    return;
  }
  var action = form.querySelector("[data-scan-action]");
  var gateIn = form.querySelector("[data-scan-gate-in]");
  var number = form.querySelector("[data-scan-number]");

  function sync() {
    if (action && gateIn) {
      gateIn.disabled = action.value !== "gate_in";
    }
  }

  if (action) {
    action.addEventListener("change", sync);
  }
  sync();

  // The page puts `autofocus` where the cursor belongs; when that is the number, select what is in it so
  // the next scan replaces it rather than adding to it.
  var wanted = document.querySelector("[autofocus]");
  if (number && (!wanted || wanted === number)) {
    number.focus();
    number.select();
  }
})();
