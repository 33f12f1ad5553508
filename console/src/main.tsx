import 'uplot/dist/uPlot.min.css';
import './styles.css';
import './traces/traces.css';
import './trace/trace.css';
import './map/map.css';
import './compare/compare.css';
import { render } from 'preact';
import { App } from './app';
import { applyTheme } from './ui/theme';

applyTheme();
render(<App />, document.getElementById('app')!);
