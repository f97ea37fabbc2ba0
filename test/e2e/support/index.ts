export * from './network';
export * from './gateway';
export * from './ca';
export * from './control';
export * from './fabric';
