import { createApp } from 'vue';
import App from './App.vue';
import { i18n, localeReady } from './i18n.ts';
import { router } from './router.ts';
import 'element-plus/theme-chalk/base.css';
import './styles.css';

void localeReady.then(() => createApp(App).use(i18n).use(router).mount('#app'));
