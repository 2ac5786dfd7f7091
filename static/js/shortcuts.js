/* Keyboard shortcuts of every page, listed on the pages that offer them (templates/includes/shortcuts.html):
   "/" the search box, "n" the scan's number field, "[" and "]" the previous and next days, "?" this list.
   Keys typed into a field are the field's; with Ctrl, Alt or Meta they are the browser's. Every page works
   without this file. */
(function () {
  "use strict";
  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return target.isContentEditable || tag === "input" || tag === "textarea" || tag === "select";
  }
  function focus(selector) {
    var field = document.querySelector(selector);
    if (!field) {
      return false;
    }
    field.focus();
    if (field.select) {
      field.select();
    }
    return true;
  }
  function follow(selector) {
    var link = document.querySelector(selector);
    if (!link) {
      return false;
    }
    link.click();
    return true;
  }
  var keys = {
    "/": function () { return focus("#site-search"); },
    "n": function () { return focus("[data-scan-number]"); },
    "[": function () { return follow("[data-period='previous']"); },
    "]": function () { return follow("[data-period='next']"); },
    "?": function () {
      var help = document.querySelector("[data-shortcuts]");
      if (!help) {
        return false;
      }
      help.open = !help.open;
      if (help.open) {
        help.querySelector("summary").focus();
      }
      return true;
    }
  };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) {
      return;
    }
    var action = keys[event.key];
    if (action && action()) {
      event.preventDefault();
    }
  });
})();
