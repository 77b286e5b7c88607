// A tiny line chart on a canvas (no library): series of numbers over a fixed window, one left
// scale shared by the first series, an optional right scale for the last one.
export class LineChart {
  constructor(canvas, { series, window = 60, rightScale = false }) {
    this.canvas = canvas;
    this.series = series; // [{ label, color }]
    this.window = window;
    this.rightScale = rightScale;
    this.values = series.map(() => []);
  }

  push(values) {
    values.forEach((v, i) => {
      const list = this.values[i];
      list.push(Number.isFinite(v) ? v : 0);
      if (list.length > this.window) list.shift();
    });
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 300;
    const height = canvas.clientHeight || 120;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const pad = { left: 38, right: this.rightScale ? 34 : 6, top: 6, bottom: 6 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const leftSeries = this.rightScale ? this.values.slice(0, -1) : this.values;
    const leftMax = niceMax(Math.max(1, ...leftSeries.flat()));
    const rightMax = this.rightScale ? niceMax(Math.max(1, ...this.values[this.values.length - 1])) : 0;
    g.font = '10px system-ui, sans-serif';
    g.fillStyle = '#5d6675';
    g.strokeStyle = '#e5e8ee';
    g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = pad.top + (plotH * i) / 2;
      g.beginPath();
      g.moveTo(pad.left, y);
      g.lineTo(pad.left + plotW, y);
      g.stroke();
      g.fillText(formatNumber(leftMax * (1 - i / 2)), 2, y + 3);
      if (this.rightScale) g.fillText(`${formatNumber(rightMax * (1 - i / 2))}%`, pad.left + plotW + 3, y + 3);
    }
    this.values.forEach((list, index) => {
      const isRight = this.rightScale && index === this.values.length - 1;
      const max = isRight ? rightMax : leftMax;
      g.strokeStyle = this.series[index].color;
      g.lineWidth = 1.5;
      g.beginPath();
      list.forEach((v, i) => {
        const x = pad.left + (plotW * (this.window - list.length + i)) / (this.window - 1);
        const y = pad.top + plotH - (plotH * v) / max;
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
    });
  }
}

function niceMax(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function formatNumber(v) {
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(1);
}
