# Drops from skills/*/wild.jsonl every command that shares a training template with
# examples.jsonl (numbers, number words, joint and output names masked). `write` applies it.
import json,re,sys
words=set('zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred half quarter quarters'.split())
def mask(t):
    t=t.lower().strip().rstrip('.!?')
    t=re.sub(r'-?\d+(\.\d+)?(/\d+)?','#',t)
    out=[]
    for w in re.findall(r"[a-z#°'\"-]+|[^\sa-z#]",t):
        if w in ('base','shoulder','elbow','wrist','lights','horn'): w='<n>'
        elif w in words or re.fullmatch(r'(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-\w+',w): w='#'
        if w=='#' and out and out[-1]=='#': continue
        out.append(w)
    return ' '.join(out)
for s in ['rover','arm']:
    tm={mask(json.loads(l)['command']) for l in open(f'skills/{s}/examples.jsonl')}
    lines=open(f'skills/{s}/wild.jsonl').read().splitlines()
    keep=[l for l in lines if mask(json.loads(l)['command']) not in tm]
    drop=[json.loads(l)['command'] for l in lines if mask(json.loads(l)['command']) in tm]
    print(s,len(lines),'->',len(keep),drop)
    if sys.argv[1:]==['write']:
        open(f'skills/{s}/wild.jsonl','w').write('\n'.join(keep)+'\n')
