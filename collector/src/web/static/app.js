// Picks the page the server named and renders it.
import { render } from 'preact';
import { html } from './layout.js';
import { TasksPage } from './tasks-page.js';
import { TaskPage } from './task-page.js';
import { ToolsPage } from './tools-page.js';
import { AuthPage } from './auth-page.js';

const PAGES = { tasks: TasksPage, task: TaskPage, tools: ToolsPage, auth: AuthPage };

const page = document.body.dataset.page;
const Page = PAGES[page] ?? TasksPage;
const root = document.getElementById('app');
root.textContent = '';
render(html`<${Page} />`, root);
