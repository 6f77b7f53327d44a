// Injected into a copy of the report page by report_page_test.ts: runs after the page's own
// script (charts laid out) and writes what it measured as JSON into <pre id="zpix-measure">.
(() => {
  const rect = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
  };
  const meets = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const shown = (el) => getComputedStyle(el).display !== "none" && el.getClientRects().length > 0;
  const out = { width: innerWidth, charts: {}, small: [], minFont: Infinity };
  // Every element with its own text: its font size on screen (SVG text: times the SVG's scale).
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el) || ["SCRIPT", "STYLE", "TITLE"].includes(el.tagName.toUpperCase())) continue;
    if (el.closest("title, script")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement) {
      const m = el.getScreenCTM();
      size *= Math.hypot(m.a, m.b);
    }
    out.minFont = Math.min(out.minFont, size);
    if (size < 9) out.small.push([el.tagName, el.textContent.slice(0, 30), size]);
  }
  for (const svg of document.querySelectorAll("svg.chart")) {
    const section = svg.closest("section");
    const box = rect(svg);
    const ctm = svg.getScreenCTM();
    const left = box.left + +svg.dataset.plotLeft * ctm.a;
    const chart = {
      svg: box,
      sectionRight: rect(section).right - parseFloat(getComputedStyle(section).paddingRight),
      scrolls: section.scrollWidth > section.clientWidth,
      plotLeft: left,
      labelsOverPlot: [...svg.querySelectorAll("text.row-label")].filter((t) =>
        rect(t).right > left + 0.5
      )
        .map((t) => t.textContent),
      titles: [...svg.querySelectorAll("rect > title")].map((t) => t.textContent),
      rowLabels: [...svg.querySelectorAll("text.row-label")].map((t) => t.textContent),
    };
    if (svg.dataset.chart === "throughput") {
      const grid = [...svg.querySelectorAll("g.plot line.grid")].map(rect);
      chart.plotTop = Math.min(...grid.map((g) => g.top));
      chart.plotBottom = Math.max(...grid.map((g) => g.bottom));
      const title = svg.querySelector(".axis-title");
      chart.axisTitle = { text: title.textContent, ...rect(title) };
      chart.yTicks = [...svg.querySelectorAll(".y-tick")].map(rect);
      chart.axisTitleOverTicks = chart.yTicks.some((t) => meets(t, chart.axisTitle));
      const label = svg.querySelector(".mean-label");
      const line = svg.querySelector(".rate-line");
      if (label && line) {
        const m = line.getScreenCTM();
        const pts = [...line.points].map((p) => p.matrixTransform(m));
        const r = rect(label);
        chart.meanLabel = { text: label.textContent, ...r };
        // The curve's segments, sampled every 0.5 px, against the label's box.
        let hits = 0;
        for (let i = 1; i < pts.length; i++) {
          const a = pts[i - 1], b = pts[i];
          const n = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) * 2));
          for (let k = 0; k <= n; k++) {
            const x = a.x + ((b.x - a.x) * k) / n, y = a.y + ((b.y - a.y) * k) / n;
            if (x >= r.left && x <= r.right && y >= r.top && y <= r.bottom) hits++;
          }
        }
        chart.meanLabelOnCurve = hits;
      }
    }
    out.charts[svg.dataset.chart] = chart;
  }
  // The time cursor: a mouse move over the middle of the throughput plot puts the cursor
  // line of every chart at that x on screen.
  const first = document.querySelector('svg[data-chart="throughput"]');
  const drawn = first.querySelector("g.plot").getBoundingClientRect(); // the plot as drawn
  const at = (drawn.left + drawn.right) / 2;
  const ctm = first.getScreenCTM();
  first.dispatchEvent(
    new MouseEvent("mousemove", { clientX: at, clientY: ctm.f + 60, bubbles: true }),
  );
  out.cursor = {
    at,
    lines: [...document.querySelectorAll("svg.chart .cursor")].map((line) => {
      const r = line.getBoundingClientRect();
      return (r.left + r.right) / 2;
    }),
  };
  out.headings = [...document.querySelectorAll("h2")].map((h) => h.textContent);
  out.cpuNote = document.querySelector("[data-cpu-note]")?.textContent ?? null;
  const pre = document.createElement("pre");
  pre.id = "zpix-measure";
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
