import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A small time-series chart (uPlot, ~50 kB); the numbers stay readable in a table for screen readers. */
export function LineChart({ x, series, label }: { x: number[]; series: { name: string; values: number[]; color: string }[]; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current!;
    const width = Math.max(260, el.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 200,
        series: [{}, ...series.map((s) => ({ label: s.name, stroke: s.color, width: 2, fill: s.color + '22' }))],
        axes: [{ stroke: 'currentColor', grid: { stroke: '#8884' } }, { stroke: 'currentColor', grid: { stroke: '#8884' } }],
        legend: { show: true },
      },
      [x, ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(260, el.clientWidth), height: 200 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series]);
  return (
    <figure className="chart" aria-label={label}>
      <div ref={host} />
      <figcaption className="sr-only">
        {label}: {series.map((s) => `${s.name} ${s.values.join(', ')}`).join('; ')}
      </figcaption>
    </figure>
  );
}
