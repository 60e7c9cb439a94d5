package inventory

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Prototype writes fn's BTF prototype as C: "long do_sys_openat2(int dfd,
// const char *filename, struct open_how *how)". It is what an fentry
// program's arguments must match, and what changes when a kernel changes a
// signature under a tool.
func Prototype(fn *btf.Func) string {
	proto, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		return fn.Name + "(?)"
	}
	return declare(proto, fn.Name)
}

// CType writes t as C names it in a declaration without a name: "unsigned
// int", "struct mm_struct *", "char [16]".
func CType(t btf.Type) string { return declare(t, "") }

// declare writes the C declaration of name with type t, inside out, the way
// C declarators nest: pointer to array and pointer to function need
// parentheses.
func declare(t btf.Type, name string) string {
	switch t := t.(type) {
	case nil, *btf.Void:
		return join("void", name)
	case *btf.Pointer:
		inner := "*" + name
		switch t.Target.(type) {
		case *btf.Array, *btf.FuncProto:
			inner = "(" + inner + ")"
		}
		return declare(t.Target, inner)
	case *btf.Const:
		if _, ok := t.Type.(*btf.Pointer); ok {
			return declare(t.Type, "const "+name)
		}
		return "const " + declare(t.Type, name)
	case *btf.Volatile:
		if _, ok := t.Type.(*btf.Pointer); ok {
			return declare(t.Type, "volatile "+name)
		}
		return "volatile " + declare(t.Type, name)
	case *btf.Restrict:
		return declare(t.Type, "restrict "+name)
	case *btf.TypeTag:
		// btf_type_tag("user") and friends annotate, they do not change the type.
		return declare(t.Type, name)
	case *btf.Array:
		return declare(t.Type, fmt.Sprintf("%s[%d]", name, t.Nelems))
	case *btf.FuncProto:
		params := make([]string, 0, len(t.Params))
		for i, p := range t.Params {
			if _, void := p.Type.(*btf.Void); (void || p.Type == nil) && i == len(t.Params)-1 {
				params = append(params, "...")
				continue
			}
			params = append(params, declare(p.Type, p.Name))
		}
		if len(params) == 0 {
			params = append(params, "void")
		}
		return declare(t.Return, name+"("+strings.Join(params, ", ")+")")
	case *btf.Struct:
		return join("struct "+t.Name, name)
	case *btf.Union:
		return join("union "+t.Name, name)
	case *btf.Enum:
		return join("enum "+t.Name, name)
	case *btf.Fwd:
		return join(t.Kind.String()+" "+t.Name, name)
	default:
		return join(t.TypeName(), name)
	}
}

func join(base, declarator string) string {
	if declarator == "" {
		return base
	}
	return base + " " + declarator
}
