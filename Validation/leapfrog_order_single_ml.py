"""Order of the SPEC's leapfrog (staggered trapezoid) scheme on one Morris-Lecar neuron (snic, I = 45).

A direct NumPy transcription of the scheme as Sources/NeuroODE/Integrators/Leapfrog.swift implements it
(gates on half steps, m_inf and the gate kinetics evaluated at V_n), compared with DOP853 at
rtol = atol = 1e-13 over 10 ms. Prints the errors in V(10 ms) at dt = 0.02, 0.01, 0.005 and the
observed slopes. Result: slope 1.00, i.e. freezing the instantaneous terms at V_n makes the scheme
first order; NetworkReferenceTests relies on this.
"""
import numpy as np
from scipy.integrate import solve_ivp
C,gL,gCa,gK,VL,VCa,VK,V1,V2,V3,V4,phi = 20,2,4,8,-60,120,-84,-1.2,18,12,17,2/30
I=45.0
def f(t,y):
    V,w=y
    m=0.5*(1+np.tanh((V-V1)/V2)); wi=0.5*(1+np.tanh((V-V3)/V4)); tau=1/np.cosh((V-V3)/(2*V4))
    return [(gL*(VL-V)+gCa*m*(VCa-V)+gK*w*(VK-V)+I)/C, phi*(wi-w)/tau]
y0=[-20,0.1]; T=10
ref=solve_ivp(f,(0,T),y0,method='DOP853',rtol=1e-13,atol=1e-13).y[:,-1]
def lf(h):
    n=int(round(T/h)); V,w=y0
    def kin(V):
        wi=0.5*(1+np.tanh((V-V3)/V4)); tau=1/(phi*np.cosh((V-V3)/(2*V4))); return wi,tau
    wi,tau=kin(V); wh = w + h/(2*tau)*(w-wi)
    for k in range(n):
        wi,tau=kin(V)
        wn=(wi*h+(tau-h/2)*wh)/(tau+h/2)
        m=0.5*(1+np.tanh((V-V1)/V2)); G=gL+gCa*m+gK*wn; E=gL*VL+gCa*m*VCa+gK*wn*VK+I
        V=(V*(C-h*G/2)+h*E)/(C+h*G/2); wh=wn
    return V
errs=[abs(lf(h)-ref[0]) for h in (0.02,0.01,0.005)]
print('errors', errs, 'slopes', np.log2(errs[0]/errs[1]), np.log2(errs[1]/errs[2]))
