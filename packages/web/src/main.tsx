/** The dashboard's entry: renders the app into the page. */
import { render } from 'preact';
import { App } from './ui/app.js';
import './style.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
