// jstat ships no types; only the quantile functions the regression gate uses (CommonJS: { jStat }).
declare module 'jstat' {
  const jstat: {
    jStat: {
      normal: { inv(p: number, mean: number, sd: number): number };
    };
  };
  export default jstat;
}
