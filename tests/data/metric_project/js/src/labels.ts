export const HTTP_LABELS = ['method', 'route'] as const;
