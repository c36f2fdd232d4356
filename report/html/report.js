(function () {
  "use strict";
  // The rows are rendered by the server; this only expands, filters and sorts them. Data is
  // never parsed as markup: only textContent, attributes and the rows' own elements are used.
  var table = document.getElementById("findings");
  if (!table) {
    return;
  }
  var bodies = Array.prototype.slice.call(table.tBodies);
  var total = bodies.length;
  var texts = [];
  var order = {};

  function setExpanded(body, open) {
    var button = body.querySelector("button.expand");
    var detail = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    detail.hidden = !open;
  }

  bodies.forEach(function (body, i) {
    // Without script every detail stays open; with it they start closed.
    setExpanded(body, false);
    texts.push(body.textContent.replace(/\s+/g, " ").toLowerCase());
    order[body.id] = i;
    body.querySelector("button.expand").addEventListener("click", function () {
      setExpanded(body, this.getAttribute("aria-expanded") !== "true");
    });
  });

  var form = document.getElementById("filters");
  var query = document.getElementById("q");
  var ruleSelect = document.getElementById("f-rule");
  var repoSelect = document.getElementById("f-repo");
  var shown = document.getElementById("shown");
  var nomatch = document.getElementById("nomatch");
  form.hidden = false;

  function checked(name) {
    var set = {};
    var boxes = form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) {
        set[boxes[i].value] = true;
      }
    }
    return set;
  }

  function apply() {
    var sev = checked("sev");
    var exp = checked("exp");
    var str = checked("str");
    var rule = ruleSelect ? ruleSelect.value : "";
    var repo = repoSelect ? repoSelect.value : "";
    var words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    bodies.forEach(function (body, i) {
      var ok = sev[body.getAttribute("data-sev")] === true &&
        exp[body.getAttribute("data-exp")] === true &&
        str[body.getAttribute("data-str")] === true &&
        (rule === "" || body.getAttribute("data-rule") === rule) &&
        (repo === "" || (" " + body.getAttribute("data-repos") + " ").indexOf(" " + repo + " ") >= 0);
      for (var w = 0; ok && w < words.length; w++) {
        ok = texts[i].indexOf(words[w]) >= 0;
      }
      body.hidden = !ok;
      if (ok) {
        n++;
      }
    });
    shown.textContent = n + " of " + total + (total === 1 ? " finding" : " findings") + " shown";
    nomatch.hidden = n !== 0;
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
  });
  form.addEventListener("reset", function (e) {
    // Reset by hand rather than after the form does, so that the rows follow at once.
    e.preventDefault();
    var boxes = form.querySelectorAll('input[type="checkbox"]');
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].checked = true;
    }
    query.value = "";
    if (ruleSelect) {
      ruleSelect.value = "";
    }
    if (repoSelect) {
      repoSelect.value = "";
    }
    apply();
  });

  // Sorting: each header button sorts by its key; a second press reverses. Severity, exposure
  // and strength start worst first, the others in ascending order. Empty values go last.
  var numeric = { sev: true, exp: true, str: true };
  var headers = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-key]"));

  function compare(key, dir) {
    var attr = "data-k-" + key;
    return function (a, b) {
      var x = a.getAttribute(attr) || "";
      var y = b.getAttribute(attr) || "";
      var c = 0;
      if (x === "" || y === "") {
        c = x === y ? 0 : (x === "" ? 1 : -1);
      } else {
        if (numeric[key]) {
          c = Number(x) - Number(y);
        } else {
          c = x < y ? -1 : (x > y ? 1 : 0);
        }
        if (dir === "descending") {
          c = -c;
        }
      }
      return c !== 0 ? c : order[a.id] - order[b.id];
    };
  }

  function sortBy(key, dir) {
    bodies.sort(compare(key, dir));
    bodies.forEach(function (body) {
      table.appendChild(body);
    });
    headers.forEach(function (th) {
      if (th.getAttribute("data-key") === key) {
        th.setAttribute("aria-sort", dir);
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }

  headers.forEach(function (th) {
    var key = th.getAttribute("data-key");
    th.querySelector("button.sort").addEventListener("click", function () {
      var now = th.getAttribute("aria-sort");
      var dir;
      if (now === "ascending") {
        dir = "descending";
      } else if (now === "descending") {
        dir = "ascending";
      } else {
        dir = numeric[key] ? "descending" : "ascending";
      }
      sortBy(key, dir);
    });
  });

  apply();
}());
