# The soak's plot (bench/soak/soak.sh runs it): RSS (and the two capped caches,
# and the machine's load average) over time, and each
# call's latency p50 (solid) and p95 (dashed) per 30 s over time.
#   gnuplot -e "dir='OUT'; out='soak.svg'; minutes=10; names='summaries ...'; title='…'" bench/soak/plot.gp
set terminal svg size 960,760 dynamic noenhanced font "sans,12" background rgb "white"
set output out
set multiplot layout 2,1 title title font "sans,13"
set grid lc rgb "#dddddd"
set lmargin at screen 0.08
set rmargin at screen 0.76
set key outside right top box opaque
set xlabel "minutes since the load started"
set xrange [0:minutes]

set title "Server memory, and the machine's load average"
set ylabel "MiB"
set yrange [0:*]
set y2label "load average (1 min)"
set y2range [0:*]
set y2tics
set ytics nomirror
plot dir."/samples.dat" using 1:2 with lines lw 2 lc rgb "#1f77b4" title "RSS", \
     "" using 1:3 with lines lw 1.5 lc rgb "#2ca02c" title "memtables", \
     "" using 1:4 with lines lw 1.5 lc rgb "#ff7f0e" title "block cache", \
     "" using 1:6 axes x1y2 with lines lw 1 dt 3 lc rgb "#777777" title "load average"
unset y2label
unset y2tics
set ytics mirror

set title "Call latency per 30 s (solid p50, dashed p95)"
set ylabel "ms (log)"
set logscale y
set yrange [*:*]
colors = "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f"
plot for [i=1:words(names)] dir."/latency.dat" index (i-1) using 1:2 with linespoints pt 7 ps 0.4 lw 1.5 \
       lc rgb word(colors, i) title word(names, i), \
     for [i=1:words(names)] dir."/latency.dat" index (i-1) using 1:3 with lines dt 2 lw 1 \
       lc rgb word(colors, i) notitle
unset multiplot
